//! Northwind Labs' APIs and the shapes their definition files are generated from.
//!
//! Each REST API is a resource collection (`/orders`, `/orders/{orderId}`, optional actions
//! such as `/orders/{orderId}/cancel`); each event API is one Kafka topic carrying a few
//! event types; gRPC APIs list their messages and RPCs. `definitions.rs` turns these into
//! OpenAPI 3.0, AsyncAPI 2.6 and proto3 documents. The one GraphQL API (the mobile apps'
//! backend for frontend) is a schema written out in `mobile-bff.graphql`.

pub(crate) struct Api {
    pub(crate) name: &'static str,
    pub(crate) system: &'static str,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) shape: ApiShape,
}

pub(crate) enum ApiShape {
    Rest(RestApi),
    Events(EventApi),
    Grpc(GrpcApi),
    /// A GraphQL schema, as SDL.
    Graph(&'static str),
}

impl Api {
    /// The Backstage `spec.type`.
    pub(crate) fn api_type(&self) -> &'static str {
        match self.shape {
            ApiShape::Rest(_) => "openapi",
            ApiShape::Events(_) => "asyncapi",
            ApiShape::Grpc(_) => "grpc",
            ApiShape::Graph(_) => "graphql",
        }
    }

    /// The definition file's name inside `apis/definitions/`.
    pub(crate) fn definition_file(&self) -> String {
        let extension = match self.shape {
            ApiShape::Grpc(_) => "proto",
            ApiShape::Graph(_) => "graphql",
            ApiShape::Rest(_) | ApiShape::Events(_) => "yaml",
        };
        format!("{}.{extension}", self.name)
    }

    pub(crate) fn tags(&self) -> &'static [&'static str] {
        match self.shape {
            ApiShape::Rest(_) => &["rest", "openapi"],
            ApiShape::Events(_) => &["events", "kafka", "asyncapi"],
            ApiShape::Grpc(_) => &["grpc", "protobuf"],
            ApiShape::Graph(_) => &["graphql", "bff"],
        }
    }
}

/// The type of a field in a schema, a query parameter or an event payload.
#[derive(Clone, Copy)]
pub(crate) enum FieldType {
    Id,
    Text,
    Int,
    Decimal,
    /// `{amountMinor, currency}`; rendered as a shared `Money` schema.
    Money,
    Bool,
    Timestamp,
    Date,
    Email,
    Url,
    /// Accepted on input, never returned (`writeOnly`).
    Secret,
    Enum(&'static [&'static str]),
    TextList,
}

pub(crate) type Field = (&'static str, FieldType);

pub(crate) struct RestApi {
    /// The collection path, e.g. `/orders`.
    pub(crate) collection: &'static str,
    /// The schema name of one item, e.g. `Order`.
    pub(crate) resource: &'static str,
    /// The path parameter naming one item, e.g. `orderId`; also the item's id property.
    pub(crate) id_param: &'static str,
    /// Fields clients send when creating an item (and read back).
    pub(crate) writable: &'static [Field],
    /// Fields only the server sets.
    pub(crate) read_only: &'static [Field],
    /// Query parameters for listing; `true` marks required ones.
    pub(crate) filters: &'static [(&'static str, FieldType, bool)],
    pub(crate) create: bool,
    /// Whether items can be fetched one by one (and so have actions).
    pub(crate) get: bool,
    pub(crate) actions: &'static [Action],
}

/// `POST {collection}/{id}/{segment}`.
pub(crate) struct Action {
    pub(crate) segment: &'static str,
    pub(crate) operation_id: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) body: &'static [Field],
}

const REST: RestApi = RestApi {
    collection: "",
    resource: "",
    id_param: "",
    writable: &[],
    read_only: &[],
    filters: &[],
    create: true,
    get: true,
    actions: &[],
};

pub(crate) struct EventApi {
    /// The Kafka topic.
    pub(crate) channel: &'static str,
    pub(crate) events: &'static [Event],
}

pub(crate) struct Event {
    pub(crate) name: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) fields: &'static [Field],
}

pub(crate) struct GrpcApi {
    pub(crate) package: &'static str,
    pub(crate) service: &'static str,
    pub(crate) rpcs: &'static [Rpc],
    pub(crate) messages: &'static [Message],
}

pub(crate) struct Rpc {
    pub(crate) name: &'static str,
    pub(crate) request: &'static str,
    pub(crate) response: &'static str,
    pub(crate) comment: &'static str,
}

pub(crate) struct Message {
    pub(crate) name: &'static str,
    /// `(proto type, field name)`, numbered in order.
    pub(crate) fields: &'static [(&'static str, &'static str)],
}

use FieldType::{
    Bool, Date, Decimal, Email, Enum, Id, Int, Money, Secret, Text, TextList, Timestamp, Url,
};

const ORDER_STATUS: FieldType =
    Enum(&["placed", "picking", "dispatched", "delivered", "cancelled"]);

pub(crate) const APIS: &[Api] = &[
    // storefront
    Api {
        name: "content-api",
        system: "storefront",
        title: "Content API",
        description: "Editorial pages, recipes and banners for the web shop and apps.",
        shape: ApiShape::Rest(RestApi {
            collection: "/pages",
            resource: "Page",
            id_param: "pageId",
            writable: &[
                ("slug", Text),
                ("title", Text),
                ("locale", Enum(&["en-GB", "cy-GB"])),
                ("body", Text),
            ],
            read_only: &[
                ("status", Enum(&["draft", "published", "archived"])),
                ("publishedAt", Timestamp),
            ],
            filters: &[("slug", Text, false), ("locale", Text, false)],
            actions: &[Action {
                segment: "publish",
                operation_id: "publishPage",
                summary: "Publish a draft page",
                body: &[],
            }],
            ..REST
        }),
    },
    Api {
        name: "mobile-bff-api",
        system: "storefront",
        title: "Mobile BFF API",
        description: "Screen-shaped data for the Northwind iOS and Android apps.",
        shape: ApiShape::Graph(include_str!("mobile-bff.graphql")),
    },
    // checkout
    Api {
        name: "cart-api",
        system: "checkout",
        title: "Cart API",
        description: "Create baskets, add items and hand a basket over to checkout.",
        shape: ApiShape::Rest(RestApi {
            collection: "/carts",
            resource: "Cart",
            id_param: "cartId",
            writable: &[("customerId", Id), ("deliveryPostcode", Text)],
            read_only: &[
                ("status", Enum(&["open", "checked-out", "abandoned"])),
                ("itemCount", Int),
                ("subtotal", Money),
            ],
            filters: &[("customerId", Id, true)],
            actions: &[
                Action {
                    segment: "items",
                    operation_id: "addCartItem",
                    summary: "Add an item to the cart",
                    body: &[("sku", Text), ("quantity", Int)],
                },
                Action {
                    segment: "checkout",
                    operation_id: "checkOutCart",
                    summary: "Freeze the cart and hand it over to checkout",
                    body: &[],
                },
            ],
            ..REST
        }),
    },
    Api {
        name: "orders-api",
        system: "checkout",
        title: "Orders API",
        description: "Place, look up and cancel customer orders.",
        shape: ApiShape::Rest(RestApi {
            collection: "/orders",
            resource: "Order",
            id_param: "orderId",
            writable: &[
                ("cartId", Id),
                ("customerId", Id),
                ("deliverySlotId", Id),
                ("paymentMethodId", Id),
            ],
            read_only: &[
                ("status", ORDER_STATUS),
                ("total", Money),
                ("placedAt", Timestamp),
            ],
            filters: &[("customerId", Id, false), ("status", ORDER_STATUS, false)],
            actions: &[Action {
                segment: "cancel",
                operation_id: "cancelOrder",
                summary: "Cancel an order that has not been picked yet",
                body: &[("reason", Text)],
            }],
            ..REST
        }),
    },
    Api {
        name: "order-events-api",
        system: "checkout",
        title: "Order Events",
        description: "The order lifecycle as events on the order-events topic.",
        shape: ApiShape::Events(EventApi {
            channel: "order-events",
            events: &[
                Event {
                    name: "OrderPlaced",
                    summary: "A customer placed an order and payment was authorised.",
                    fields: &[
                        ("orderId", Id),
                        ("customerId", Id),
                        ("deliverySlotId", Id),
                        ("total", Money),
                    ],
                },
                Event {
                    name: "OrderCancelled",
                    summary: "An order was cancelled by the customer or by customer care.",
                    fields: &[("orderId", Id), ("reason", Text)],
                },
                Event {
                    name: "OrderDelivered",
                    summary: "The courier handed the order over.",
                    fields: &[("orderId", Id), ("deliveredAt", Timestamp)],
                },
            ],
        }),
    },
    Api {
        name: "promotions-api",
        system: "checkout",
        title: "Promotions API",
        description: "Voucher codes and multi-buy offers, and checking them against a basket.",
        shape: ApiShape::Rest(RestApi {
            collection: "/promotions",
            resource: "Promotion",
            id_param: "promotionId",
            writable: &[
                ("code", Text),
                ("description", Text),
                ("discountPercent", Int),
                ("validFrom", Date),
                ("validUntil", Date),
            ],
            read_only: &[("redemptions", Int)],
            filters: &[("active", Bool, false)],
            actions: &[Action {
                segment: "validate",
                operation_id: "validatePromotion",
                summary: "Check whether the promotion applies to a cart",
                body: &[("cartId", Id)],
            }],
            ..REST
        }),
    },
    // payments
    Api {
        name: "payments-api",
        system: "payments",
        title: "Payments API",
        description: "Authorise, capture and void card and wallet payments.",
        shape: ApiShape::Rest(RestApi {
            collection: "/payments",
            resource: "Payment",
            id_param: "paymentId",
            writable: &[
                ("orderId", Id),
                ("amount", Money),
                (
                    "method",
                    Enum(&["card", "apple-pay", "google-pay", "paypal"]),
                ),
                ("idempotencyKey", Text),
            ],
            read_only: &[
                (
                    "status",
                    Enum(&["pending", "authorised", "captured", "failed", "voided"]),
                ),
                ("authorisedAt", Timestamp),
            ],
            filters: &[("orderId", Id, false)],
            actions: &[
                Action {
                    segment: "capture",
                    operation_id: "capturePayment",
                    summary: "Capture an authorised payment, possibly for less after substitutions",
                    body: &[("amount", Money)],
                },
                Action {
                    segment: "void",
                    operation_id: "voidPayment",
                    summary: "Release an authorisation that will not be captured",
                    body: &[],
                },
            ],
            ..REST
        }),
    },
    Api {
        name: "refunds-api",
        system: "payments",
        title: "Refunds API",
        description: "Full and partial refunds against captured payments.",
        shape: ApiShape::Rest(RestApi {
            collection: "/refunds",
            resource: "Refund",
            id_param: "refundId",
            writable: &[
                ("paymentId", Id),
                ("amount", Money),
                (
                    "reason",
                    Enum(&["damaged", "missing-item", "late-delivery", "goodwill"]),
                ),
            ],
            read_only: &[(
                "status",
                Enum(&["requested", "approved", "paid", "rejected"]),
            )],
            filters: &[("paymentId", Id, false)],
            actions: &[Action {
                segment: "approve",
                operation_id: "approveRefund",
                summary: "Approve a refund above the automatic limit",
                body: &[],
            }],
            ..REST
        }),
    },
    Api {
        name: "payment-events-api",
        system: "payments",
        title: "Payment Events",
        description: "Payment state changes for settlement and analytics.",
        shape: ApiShape::Events(EventApi {
            channel: "payment-events",
            events: &[
                Event {
                    name: "PaymentAuthorised",
                    summary: "The acquirer authorised a payment.",
                    fields: &[("paymentId", Id), ("orderId", Id), ("amount", Money)],
                },
                Event {
                    name: "PaymentCaptured",
                    summary: "Funds were captured after the order was packed.",
                    fields: &[("paymentId", Id), ("amount", Money)],
                },
                Event {
                    name: "PaymentFailed",
                    summary: "Authorisation or capture failed.",
                    fields: &[
                        ("paymentId", Id),
                        (
                            "reason",
                            Enum(&["declined", "fraud-suspected", "expired-card", "timeout"]),
                        ),
                    ],
                },
            ],
        }),
    },
    Api {
        name: "fraud-scoring-api",
        system: "payments",
        title: "Fraud Scoring API",
        description: "Low-latency fraud scores for payment attempts.",
        shape: ApiShape::Grpc(GrpcApi {
            package: "northwind.payments.fraud.v1",
            service: "FraudScoring",
            rpcs: &[
                Rpc {
                    name: "ScorePayment",
                    request: "ScorePaymentRequest",
                    response: "ScorePaymentResponse",
                    comment: "Scores one payment attempt; called before authorisation.",
                },
                Rpc {
                    name: "ReportOutcome",
                    request: "ReportOutcomeRequest",
                    response: "ReportOutcomeResponse",
                    comment: "Feeds chargebacks and confirmed fraud back into training.",
                },
            ],
            messages: &[
                Message {
                    name: "ScorePaymentRequest",
                    fields: &[
                        ("string", "payment_id"),
                        ("string", "customer_id"),
                        ("int64", "amount_minor"),
                        ("string", "currency"),
                        ("string", "card_bin"),
                        ("string", "delivery_postcode"),
                        ("google.protobuf.Timestamp", "attempted_at"),
                    ],
                },
                Message {
                    name: "ScorePaymentResponse",
                    fields: &[
                        ("double", "score"),
                        ("bool", "requires_challenge"),
                        ("repeated string", "reasons"),
                    ],
                },
                Message {
                    name: "ReportOutcomeRequest",
                    fields: &[
                        ("string", "payment_id"),
                        ("bool", "fraudulent"),
                        ("string", "source"),
                    ],
                },
                Message {
                    name: "ReportOutcomeResponse",
                    fields: &[],
                },
            ],
        }),
    },
    // product-catalog
    Api {
        name: "product-catalog-api",
        system: "product-catalog",
        title: "Product Catalogue API",
        description: "Products with sizes, allergens and images.",
        shape: ApiShape::Rest(RestApi {
            collection: "/products",
            resource: "Product",
            id_param: "sku",
            writable: &[
                ("name", Text),
                ("brand", Text),
                ("category", Text),
                ("sizeLabel", Text),
                ("barcode", Text),
                ("allergens", TextList),
                ("imageUrl", Url),
            ],
            read_only: &[("active", Bool)],
            filters: &[("category", Text, false), ("brand", Text, false)],
            actions: &[Action {
                segment: "discontinue",
                operation_id: "discontinueProduct",
                summary: "Stop selling a product",
                body: &[("reason", Text)],
            }],
            ..REST
        }),
    },
    Api {
        name: "search-api",
        system: "product-catalog",
        title: "Search API",
        description: "Full-text product search with facets.",
        shape: ApiShape::Rest(RestApi {
            collection: "/search/products",
            resource: "ProductHit",
            id_param: "sku",
            read_only: &[
                ("name", Text),
                ("score", Decimal),
                ("price", Money),
                ("inStock", Bool),
            ],
            filters: &[
                ("q", Text, true),
                ("category", Text, false),
                ("inStock", Bool, false),
            ],
            create: false,
            get: false,
            ..REST
        }),
    },
    Api {
        name: "recommendations-api",
        system: "product-catalog",
        title: "Recommendations API",
        description: "Personalised product suggestions for the home page, basket and product pages.",
        shape: ApiShape::Rest(RestApi {
            collection: "/recommendations",
            resource: "Recommendation",
            id_param: "sku",
            read_only: &[
                (
                    "reason",
                    Enum(&["bought-before", "bought-together", "trending"]),
                ),
                ("score", Decimal),
            ],
            filters: &[
                ("customerId", Id, true),
                ("context", Enum(&["home", "basket", "product-page"]), false),
            ],
            create: false,
            get: false,
            ..REST
        }),
    },
    Api {
        name: "pricing-api",
        system: "product-catalog",
        title: "Pricing API",
        description: "Current shelf prices and unit-price labels.",
        shape: ApiShape::Rest(RestApi {
            collection: "/prices",
            resource: "Price",
            id_param: "sku",
            read_only: &[
                ("unitPrice", Money),
                ("wasPrice", Money),
                ("unitPriceLabel", Text),
                ("validFrom", Timestamp),
            ],
            filters: &[("category", Text, false)],
            create: false,
            ..REST
        }),
    },
    Api {
        name: "price-changes-api",
        system: "product-catalog",
        title: "Price Changes API",
        description: "Scheduled shelf-price changes, approved by the trading team and applied overnight.",
        shape: ApiShape::Rest(RestApi {
            collection: "/price-changes",
            resource: "PriceChange",
            id_param: "priceChangeId",
            writable: &[
                ("sku", Text),
                ("newUnitPrice", Money),
                ("effectiveFrom", Timestamp),
                (
                    "reason",
                    Enum(&["cost-change", "promotion", "clearance", "price-match"]),
                ),
            ],
            read_only: &[
                (
                    "status",
                    Enum(&["pending-approval", "scheduled", "applied", "cancelled"]),
                ),
                ("requestedBy", Email),
                ("appliedAt", Timestamp),
            ],
            filters: &[("sku", Text, false), ("status", Text, false)],
            actions: &[
                Action {
                    segment: "approve",
                    operation_id: "approvePriceChange",
                    summary: "Approve a price change so it is applied at its effective time",
                    body: &[],
                },
                Action {
                    segment: "cancel",
                    operation_id: "cancelPriceChange",
                    summary: "Withdraw a price change that has not been applied yet",
                    body: &[("reason", Text)],
                },
            ],
            ..REST
        }),
    },
    // identity
    Api {
        name: "auth-api",
        system: "identity",
        title: "Auth API",
        description: "Customer sign-in sessions and access tokens.",
        shape: ApiShape::Rest(RestApi {
            collection: "/sessions",
            resource: "Session",
            id_param: "sessionId",
            writable: &[("email", Email), ("password", Secret)],
            read_only: &[
                ("customerId", Id),
                ("accessToken", Text),
                ("expiresAt", Timestamp),
            ],
            filters: &[("customerId", Id, true)],
            actions: &[Action {
                segment: "revoke",
                operation_id: "revokeSession",
                summary: "Sign a session out everywhere",
                body: &[],
            }],
            ..REST
        }),
    },
    Api {
        name: "customer-profile-api",
        system: "identity",
        title: "Customer Profile API",
        description: "Customer details, addresses and marketing preferences.",
        shape: ApiShape::Rest(RestApi {
            collection: "/customers",
            resource: "Customer",
            id_param: "customerId",
            writable: &[
                ("email", Email),
                ("firstName", Text),
                ("lastName", Text),
                ("phone", Text),
                ("defaultPostcode", Text),
                ("marketingOptIn", Bool),
            ],
            filters: &[("email", Email, false)],
            actions: &[Action {
                segment: "anonymise",
                operation_id: "anonymiseCustomer",
                summary: "Erase personal data after a right-to-erasure request",
                body: &[],
            }],
            ..REST
        }),
    },
    Api {
        name: "loyalty-api",
        system: "identity",
        title: "Loyalty API",
        description: "Northwind Rewards balances, tiers and redemptions.",
        shape: ApiShape::Rest(RestApi {
            collection: "/accounts",
            resource: "LoyaltyAccount",
            id_param: "accountId",
            writable: &[("customerId", Id)],
            read_only: &[
                ("points", Int),
                ("tier", Enum(&["green", "silver", "gold"])),
            ],
            filters: &[("customerId", Id, false)],
            actions: &[Action {
                segment: "redeem",
                operation_id: "redeemPoints",
                summary: "Spend points on a basket discount",
                body: &[("points", Int), ("cartId", Id)],
            }],
            ..REST
        }),
    },
    Api {
        name: "customer-events-api",
        system: "identity",
        title: "Customer Events",
        description: "Customer sign-ups, profile changes and erasure requests.",
        shape: ApiShape::Events(EventApi {
            channel: "customer-events",
            events: &[
                Event {
                    name: "CustomerRegistered",
                    summary: "A new customer created an account.",
                    fields: &[("customerId", Id), ("marketingOptIn", Bool)],
                },
                Event {
                    name: "CustomerUpdated",
                    summary: "A customer changed their profile.",
                    fields: &[("customerId", Id), ("changedFields", TextList)],
                },
                Event {
                    name: "CustomerErasureRequested",
                    summary: "A customer asked for their personal data to be erased.",
                    fields: &[("customerId", Id), ("requestedAt", Timestamp)],
                },
            ],
        }),
    },
    // inventory
    Api {
        name: "inventory-availability-api",
        system: "inventory",
        title: "Inventory Availability API",
        description: "Sellable stock per SKU and fulfilment centre, and short-lived reservations.",
        shape: ApiShape::Rest(RestApi {
            collection: "/stock-levels",
            resource: "StockLevel",
            id_param: "sku",
            read_only: &[
                ("fulfilmentCentreId", Id),
                ("available", Int),
                ("reserved", Int),
            ],
            filters: &[
                ("fulfilmentCentreId", Id, true),
                ("belowSafetyStock", Bool, false),
            ],
            create: false,
            actions: &[Action {
                segment: "reserve",
                operation_id: "reserveStock",
                summary: "Hold stock for an order until it is picked",
                body: &[("orderId", Id), ("quantity", Int)],
            }],
            ..REST
        }),
    },
    Api {
        name: "stock-events-api",
        system: "inventory",
        title: "Stock Events",
        description: "Every stock movement in every fulfilment centre.",
        shape: ApiShape::Events(EventApi {
            channel: "stock-events",
            events: &[
                Event {
                    name: "StockAdjusted",
                    summary: "Stock for a SKU changed in a fulfilment centre.",
                    fields: &[
                        ("sku", Text),
                        ("fulfilmentCentreId", Id),
                        ("delta", Int),
                        (
                            "reason",
                            Enum(&["received", "picked", "damaged", "expired", "recount"]),
                        ),
                    ],
                },
                Event {
                    name: "StockDepleted",
                    summary: "A SKU sold out in a fulfilment centre.",
                    fields: &[("sku", Text), ("fulfilmentCentreId", Id)],
                },
            ],
        }),
    },
    Api {
        name: "supplier-orders-api",
        system: "inventory",
        title: "Supplier Orders API",
        description: "Purchase orders raised with suppliers and their confirmation.",
        shape: ApiShape::Rest(RestApi {
            collection: "/purchase-orders",
            resource: "PurchaseOrder",
            id_param: "purchaseOrderId",
            writable: &[
                ("supplierId", Id),
                ("fulfilmentCentreId", Id),
                ("skus", TextList),
                ("expectedDelivery", Date),
            ],
            read_only: &[("status", Enum(&["draft", "sent", "confirmed", "received"]))],
            filters: &[("supplierId", Id, false)],
            actions: &[
                Action {
                    segment: "confirm",
                    operation_id: "confirmPurchaseOrder",
                    summary: "Supplier confirms quantities and delivery date",
                    body: &[("expectedDelivery", Date)],
                },
                Action {
                    segment: "receive",
                    operation_id: "receivePurchaseOrder",
                    summary: "Goods arrived at the fulfilment centre",
                    body: &[],
                },
            ],
            ..REST
        }),
    },
    // warehouse
    Api {
        name: "fulfilment-orders-api",
        system: "warehouse",
        title: "Fulfilment Orders API",
        description: "Orders as the fulfilment centre sees them: waves, totes and dispatch.",
        shape: ApiShape::Rest(RestApi {
            collection: "/fulfilment-orders",
            resource: "FulfilmentOrder",
            id_param: "fulfilmentOrderId",
            writable: &[
                ("orderId", Id),
                ("fulfilmentCentreId", Id),
                ("deliverySlotId", Id),
            ],
            read_only: &[
                (
                    "status",
                    Enum(&["queued", "picking", "packed", "dispatched"]),
                ),
                ("toteCount", Int),
            ],
            filters: &[("fulfilmentCentreId", Id, true)],
            actions: &[Action {
                segment: "dispatch",
                operation_id: "dispatchFulfilmentOrder",
                summary: "Mark the order as loaded onto its van",
                body: &[("vanId", Text)],
            }],
            ..REST
        }),
    },
    Api {
        name: "picking-api",
        system: "warehouse",
        title: "Picking API",
        description: "Pick lists per temperature zone for the handheld scanners.",
        shape: ApiShape::Rest(RestApi {
            collection: "/pick-lists",
            resource: "PickList",
            id_param: "pickListId",
            writable: &[
                ("fulfilmentOrderId", Id),
                ("zone", Enum(&["ambient", "chilled", "frozen"])),
            ],
            read_only: &[
                ("pickerId", Id),
                (
                    "status",
                    Enum(&["open", "in-progress", "complete", "short-picked"]),
                ),
                ("lineCount", Int),
            ],
            filters: &[("zone", Text, false)],
            actions: &[Action {
                segment: "complete",
                operation_id: "completePickList",
                summary: "Finish a pick list, reporting any short picks",
                body: &[("shortPickedSkus", TextList)],
            }],
            ..REST
        }),
    },
    Api {
        name: "fulfilment-events-api",
        system: "warehouse",
        title: "Fulfilment Events",
        description: "Packing, short picks and dispatch of fulfilment orders on the fulfilment-events topic.",
        shape: ApiShape::Events(EventApi {
            channel: "fulfilment-events",
            events: &[
                Event {
                    name: "FulfilmentOrderPacked",
                    summary: "Every tote of an order was packed and labelled.",
                    fields: &[
                        ("fulfilmentOrderId", Id),
                        ("orderId", Id),
                        ("toteCount", Int),
                        ("substitutedSkus", TextList),
                    ],
                },
                Event {
                    name: "ItemsShortPicked",
                    summary: "Items could not be picked and will be missing from the order.",
                    fields: &[
                        ("fulfilmentOrderId", Id),
                        ("orderId", Id),
                        ("shortPickedSkus", TextList),
                    ],
                },
                Event {
                    name: "FulfilmentOrderDispatched",
                    summary: "The order was loaded onto its van.",
                    fields: &[
                        ("fulfilmentOrderId", Id),
                        ("orderId", Id),
                        ("vanId", Text),
                        ("dispatchedAt", Timestamp),
                    ],
                },
            ],
        }),
    },
    // delivery
    Api {
        name: "delivery-slots-api",
        system: "delivery",
        title: "Delivery Slots API",
        description: "One-hour delivery slots by postcode, and holding a slot during checkout.",
        shape: ApiShape::Rest(RestApi {
            collection: "/slots",
            resource: "DeliverySlot",
            id_param: "slotId",
            read_only: &[
                ("startsAt", Timestamp),
                ("endsAt", Timestamp),
                ("price", Money),
                ("remainingCapacity", Int),
            ],
            filters: &[("postcode", Text, true), ("date", Date, false)],
            create: false,
            actions: &[Action {
                segment: "reserve",
                operation_id: "reserveSlot",
                summary: "Hold a slot for a cart for 15 minutes",
                body: &[("cartId", Id)],
            }],
            ..REST
        }),
    },
    Api {
        name: "route-planning-api",
        system: "delivery",
        title: "Route Planning API",
        description: "Van route optimisation for a delivery wave.",
        shape: ApiShape::Grpc(GrpcApi {
            package: "northwind.delivery.routing.v1",
            service: "RoutePlanner",
            rpcs: &[
                Rpc {
                    name: "PlanRoutes",
                    request: "PlanRoutesRequest",
                    response: "PlanRoutesResponse",
                    comment: "Plans routes for every van in a wave.",
                },
                Rpc {
                    name: "GetRoute",
                    request: "GetRouteRequest",
                    response: "Route",
                    comment: "Returns one planned route with its stops in order.",
                },
            ],
            messages: &[
                Message {
                    name: "Stop",
                    fields: &[
                        ("string", "order_id"),
                        ("double", "latitude"),
                        ("double", "longitude"),
                        ("google.protobuf.Timestamp", "window_start"),
                        ("google.protobuf.Timestamp", "window_end"),
                    ],
                },
                Message {
                    name: "Route",
                    fields: &[
                        ("string", "route_id"),
                        ("string", "van_id"),
                        ("repeated Stop", "stops"),
                        ("int32", "drive_minutes"),
                    ],
                },
                Message {
                    name: "PlanRoutesRequest",
                    fields: &[
                        ("string", "fulfilment_centre_id"),
                        ("string", "wave_id"),
                        ("repeated Stop", "stops"),
                        ("int32", "van_count"),
                    ],
                },
                Message {
                    name: "PlanRoutesResponse",
                    fields: &[
                        ("repeated Route", "routes"),
                        ("repeated string", "unassigned_order_ids"),
                    ],
                },
                Message {
                    name: "GetRouteRequest",
                    fields: &[("string", "route_id")],
                },
            ],
        }),
    },
    Api {
        name: "delivery-tracking-api",
        system: "delivery",
        title: "Delivery Tracking API",
        description: "Where an order is and when it will arrive.",
        shape: ApiShape::Rest(RestApi {
            collection: "/shipments",
            resource: "Shipment",
            id_param: "shipmentId",
            read_only: &[
                ("orderId", Id),
                (
                    "status",
                    Enum(&["at-depot", "out-for-delivery", "delivered", "failed"]),
                ),
                ("etaFrom", Timestamp),
                ("etaTo", Timestamp),
                ("courierFirstName", Text),
            ],
            filters: &[("orderId", Id, true)],
            create: false,
            ..REST
        }),
    },
    Api {
        name: "courier-events-api",
        system: "delivery",
        title: "Courier Events",
        description: "Courier locations and delivery attempts from the courier app.",
        shape: ApiShape::Events(EventApi {
            channel: "courier-events",
            events: &[
                Event {
                    name: "CourierLocationUpdated",
                    summary: "A courier's phone reported its position.",
                    fields: &[
                        ("courierId", Id),
                        ("routeId", Text),
                        ("latitude", Decimal),
                        ("longitude", Decimal),
                    ],
                },
                Event {
                    name: "DeliveryAttempted",
                    summary: "A courier tried to hand over an order.",
                    fields: &[
                        ("shipmentId", Id),
                        ("outcome", Enum(&["delivered", "no-answer", "refused"])),
                    ],
                },
            ],
        }),
    },
    // platform-services
    Api {
        name: "feature-flags-api",
        system: "platform-services",
        title: "Feature Flags API",
        description: "Feature flags, percentage rollouts and evaluation.",
        shape: ApiShape::Rest(RestApi {
            collection: "/flags",
            resource: "Flag",
            id_param: "flagKey",
            writable: &[
                ("description", Text),
                ("enabled", Bool),
                ("rolloutPercent", Int),
            ],
            filters: &[("enabled", Bool, false)],
            actions: &[Action {
                segment: "evaluate",
                operation_id: "evaluateFlag",
                summary: "Evaluate the flag for a customer or device",
                body: &[("subjectId", Text)],
            }],
            ..REST
        }),
    },
    Api {
        name: "notifications-api",
        system: "platform-services",
        title: "Notifications API",
        description: "Send templated e-mail, SMS and push notifications to customers.",
        shape: ApiShape::Rest(RestApi {
            collection: "/notifications",
            resource: "Notification",
            id_param: "notificationId",
            writable: &[
                ("customerId", Id),
                ("channel", Enum(&["email", "sms", "push"])),
                ("template", Text),
            ],
            read_only: &[
                ("status", Enum(&["queued", "sent", "delivered", "bounced"])),
                ("sentAt", Timestamp),
            ],
            filters: &[("customerId", Id, false)],
            ..REST
        }),
    },
    // data-platform
    Api {
        name: "analytics-events-api",
        system: "data-platform",
        title: "Analytics Events",
        description: "Clickstream events from the web shop and apps.",
        shape: ApiShape::Events(EventApi {
            channel: "clickstream",
            events: &[
                Event {
                    name: "PageViewed",
                    summary: "A page or screen was shown.",
                    fields: &[("sessionId", Id), ("path", Text), ("referrer", Url)],
                },
                Event {
                    name: "ProductViewed",
                    summary: "A product detail page was shown.",
                    fields: &[("sessionId", Id), ("sku", Text)],
                },
                Event {
                    name: "AddedToCart",
                    summary: "A product was added to the basket.",
                    fields: &[("sessionId", Id), ("sku", Text), ("quantity", Int)],
                },
            ],
        }),
    },
];
