//! Northwind Labs' software: domains, systems, components and resources.
//!
//! Every component belongs to a system and is owned by that system's team. APIs live in
//! `apis.rs`; a component's `provides` names them without the kind, as Backstage does.

pub(crate) struct Domain {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    /// A department or team.
    pub(crate) owner: &'static str,
}

pub(crate) struct System {
    pub(crate) name: &'static str,
    pub(crate) title: &'static str,
    pub(crate) description: &'static str,
    pub(crate) owner: &'static str,
    pub(crate) domain: &'static str,
    pub(crate) components: &'static [Component],
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ComponentType {
    Service,
    Website,
    Library,
    Worker,
}

impl ComponentType {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ComponentType::Service => "service",
            ComponentType::Website => "website",
            ComponentType::Library => "library",
            ComponentType::Worker => "worker",
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Production,
    Experimental,
    Deprecated,
}

impl Lifecycle {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Lifecycle::Production => "production",
            Lifecycle::Experimental => "experimental",
            Lifecycle::Deprecated => "deprecated",
        }
    }
}

pub(crate) struct Component {
    pub(crate) name: &'static str,
    pub(crate) title: Option<&'static str>,
    pub(crate) component_type: ComponentType,
    pub(crate) lifecycle: Lifecycle,
    pub(crate) description: &'static str,
    pub(crate) tags: &'static [&'static str],
    pub(crate) provides: &'static [&'static str],
    pub(crate) consumes: &'static [&'static str],
    /// Kind-qualified refs (`resource:orders-db`, `component:geo-lib`).
    pub(crate) depends_on: &'static [&'static str],
}

/// Defaults for the optional fields, so the tables below only spell out what matters.
const COMPONENT: Component = Component {
    name: "",
    title: None,
    component_type: ComponentType::Service,
    lifecycle: Lifecycle::Production,
    description: "",
    tags: &[],
    provides: &[],
    consumes: &[],
    depends_on: &[],
};

pub(crate) struct Resource {
    pub(crate) name: &'static str,
    pub(crate) resource_type: &'static str,
    pub(crate) system: &'static str,
    pub(crate) description: &'static str,
    pub(crate) tags: &'static [&'static str],
}

use ComponentType::{Library, Website, Worker};
use Lifecycle::{Deprecated, Experimental};

pub(crate) const DOMAINS: &[Domain] = &[
    Domain {
        name: "shopping",
        title: "Shopping",
        description: "Finding products, filling a basket and placing an order.",
        owner: "commerce-engineering",
    },
    Domain {
        name: "payments",
        title: "Payments & Trust",
        description: "Taking money safely and knowing who our customers are.",
        owner: "payments-core",
    },
    Domain {
        name: "fulfilment",
        title: "Fulfilment & Logistics",
        description: "Stock, fulfilment centres and delivery to the customer's door.",
        owner: "fulfilment-engineering",
    },
    Domain {
        name: "platform",
        title: "Platform",
        description: "Shared services, libraries and data infrastructure used by every team.",
        owner: "platform-engineering",
    },
];

pub(crate) const RESOURCES: &[Resource] = &[
    Resource {
        name: "orders-db",
        resource_type: "database",
        system: "checkout",
        description: "PostgreSQL 16 cluster holding baskets, orders and promotion redemptions.",
        tags: &["postgres", "aws"],
    },
    Resource {
        name: "order-events",
        resource_type: "kafka-topic",
        system: "checkout",
        description: "Kafka topic carrying the order lifecycle: placed, cancelled, delivered.",
        tags: &["kafka"],
    },
    Resource {
        name: "payments-db",
        resource_type: "database",
        system: "payments",
        description: "PCI-scoped PostgreSQL database for payment intents, captures and refunds.",
        tags: &["postgres", "pci"],
    },
    Resource {
        name: "catalog-db",
        resource_type: "database",
        system: "product-catalog",
        description: "PostgreSQL database with products, categories and price history.",
        tags: &["postgres"],
    },
    Resource {
        name: "product-images",
        resource_type: "s3-bucket",
        system: "product-catalog",
        description: "S3 bucket with original and resized product photography.",
        tags: &["aws", "s3"],
    },
    Resource {
        name: "customer-db",
        resource_type: "database",
        system: "identity",
        description: "PostgreSQL database with customer accounts, credentials and loyalty balances.",
        tags: &["postgres", "pii"],
    },
    Resource {
        name: "inventory-db",
        resource_type: "database",
        system: "inventory",
        description: "PostgreSQL database with stock positions per fulfilment centre and pick locations.",
        tags: &["postgres"],
    },
    Resource {
        name: "stock-events",
        resource_type: "kafka-topic",
        system: "inventory",
        description: "Kafka topic with every stock adjustment, compacted by SKU and fulfilment centre.",
        tags: &["kafka"],
    },
    Resource {
        name: "dispatch-queue",
        resource_type: "queue",
        system: "delivery",
        description: "SQS queue of packed orders waiting to be assigned to a van.",
        tags: &["aws", "sqs"],
    },
    Resource {
        name: "data-lake",
        resource_type: "s3-bucket",
        system: "data-platform",
        description: "S3 bucket holding the Iceberg tables of the analytics lakehouse.",
        tags: &["aws", "s3", "iceberg"],
    },
];

pub(crate) const SYSTEMS: &[System] = &[
    System {
        name: "storefront",
        title: "Storefront",
        description: "The customer-facing web shop, marketing pages and the backend for the mobile apps.",
        owner: "web-experience",
        domain: "shopping",
        components: &[
            Component {
                name: "storefront-web",
                title: Some("Storefront Web App"),
                component_type: Website,
                description: "Next.js web shop at www.northwind.example.com: browse, search, basket and account pages.",
                tags: &["typescript", "react", "nextjs"],
                consumes: &[
                    "product-catalog-api",
                    "search-api",
                    "cart-api",
                    "customer-profile-api",
                    "content-api",
                    "auth-api",
                    "recommendations-api",
                    "feature-flags-api",
                ],
                depends_on: &["component:design-system"],
                ..COMPONENT
            },
            Component {
                name: "mobile-bff",
                title: Some("Mobile Backend for Frontend"),
                description: "Aggregates catalogue, basket and delivery data into screens for the iOS and Android apps.",
                tags: &["kotlin", "graphql"],
                provides: &["mobile-bff-api"],
                consumes: &[
                    "product-catalog-api",
                    "search-api",
                    "cart-api",
                    "orders-api",
                    "delivery-tracking-api",
                    "auth-api",
                ],
                ..COMPONENT
            },
            Component {
                name: "design-system",
                title: Some("Basil Design System"),
                component_type: Library,
                description: "React components, tokens and icons shared by every Northwind web front end.",
                tags: &["typescript", "react"],
                ..COMPONENT
            },
            Component {
                name: "cms-content-service",
                description: "Serves editorial pages, recipes and promotional banners authored in the CMS.",
                tags: &["go"],
                provides: &["content-api"],
                depends_on: &["resource:product-images"],
                ..COMPONENT
            },
            Component {
                name: "marketing-site",
                component_type: Website,
                description: "Static marketing and careers site, rebuilt whenever content is published.",
                tags: &["typescript", "astro"],
                consumes: &["content-api"],
                depends_on: &["component:design-system"],
                ..COMPONENT
            },
            Component {
                name: "image-resizer",
                component_type: Worker,
                description: "Produces WebP thumbnails and zoom images when product photos are uploaded.",
                tags: &["go"],
                depends_on: &["resource:product-images"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "checkout",
        title: "Checkout",
        description: "Basket, promotions and order placement, from 'add to basket' to order confirmation.",
        owner: "basket-checkout",
        domain: "shopping",
        components: &[
            Component {
                name: "cart-service",
                description: "Keeps customers' baskets, re-prices them and checks availability before checkout.",
                tags: &["kotlin", "postgres"],
                provides: &["cart-api"],
                consumes: &[
                    "product-catalog-api",
                    "pricing-api",
                    "inventory-availability-api",
                    "promotions-api",
                ],
                depends_on: &["resource:orders-db", "component:service-kit-jvm"],
                ..COMPONENT
            },
            Component {
                name: "order-service",
                title: Some("Order Service"),
                description: "Turns a checked-out basket into an order, takes payment and publishes order events.",
                tags: &["java", "postgres", "kafka"],
                provides: &["orders-api", "order-events-api"],
                consumes: &[
                    "payments-api",
                    "delivery-slots-api",
                    "inventory-availability-api",
                    "customer-profile-api",
                ],
                depends_on: &[
                    "resource:orders-db",
                    "resource:order-events",
                    "component:service-kit-jvm",
                ],
                ..COMPONENT
            },
            Component {
                name: "promotions-service",
                description: "Evaluates voucher codes, multi-buy offers and loyalty rewards against a basket.",
                tags: &["go"],
                provides: &["promotions-api"],
                consumes: &["customer-profile-api", "loyalty-api"],
                depends_on: &["resource:orders-db", "component:service-kit-go"],
                ..COMPONENT
            },
            Component {
                name: "checkout-web",
                title: Some("Checkout Web"),
                component_type: Website,
                description: "The checkout pages: delivery slot, payment and order confirmation.",
                tags: &["typescript", "react"],
                consumes: &[
                    "cart-api",
                    "orders-api",
                    "payments-api",
                    "delivery-slots-api",
                ],
                depends_on: &["component:design-system"],
                ..COMPONENT
            },
            Component {
                name: "order-confirmation-worker",
                component_type: Worker,
                description: "Sends order confirmation and substitution e-mails when orders change state.",
                tags: &["java", "kafka"],
                consumes: &[
                    "order-events-api",
                    "fulfilment-events-api",
                    "notifications-api",
                ],
                depends_on: &["resource:order-events"],
                ..COMPONENT
            },
            Component {
                name: "legacy-basket",
                lifecycle: Deprecated,
                description: "The original PHP basket, kept alive for app versions older than 5.0. Replaced by cart-service.",
                tags: &["php"],
                depends_on: &["resource:orders-db"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "payments",
        title: "Payments",
        description: "Card and wallet payments, refunds, settlement with the acquirer and fraud checks.",
        owner: "payments-core",
        domain: "payments",
        components: &[
            Component {
                name: "payment-gateway",
                title: Some("Payment Gateway"),
                description: "Authorises and captures card, Apple Pay and Google Pay payments through our acquirer.",
                tags: &["java", "postgres", "kafka"],
                provides: &["payments-api", "payment-events-api"],
                consumes: &["fraud-scoring-api"],
                depends_on: &["resource:payments-db", "component:payments-lib"],
                ..COMPONENT
            },
            Component {
                name: "refund-service",
                description: "Issues full and partial refunds for missing, damaged or late items.",
                tags: &["kotlin"],
                provides: &["refunds-api"],
                consumes: &["payments-api", "orders-api"],
                depends_on: &["resource:payments-db", "component:payments-lib"],
                ..COMPONENT
            },
            Component {
                name: "fraud-scoring",
                description: "Scores every payment attempt with a gradient-boosted model trained on the data lake.",
                tags: &["python", "grpc"],
                provides: &["fraud-scoring-api"],
                consumes: &["customer-profile-api"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "payments-lib",
                component_type: Library,
                description: "Money types, idempotency keys and acquirer error mapping shared by payment services.",
                tags: &["kotlin"],
                ..COMPONENT
            },
            Component {
                name: "settlement-worker",
                component_type: Worker,
                description: "Reconciles captures with the acquirer's daily settlement files.",
                tags: &["java", "kafka"],
                consumes: &["payment-events-api"],
                depends_on: &["resource:payments-db"],
                ..COMPONENT
            },
            Component {
                name: "payment-links-service",
                lifecycle: Experimental,
                description: "Pay-by-link for orders placed by phone with customer care.",
                tags: &["go"],
                consumes: &["payments-api", "notifications-api"],
                depends_on: &["component:service-kit-go"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "product-catalog",
        title: "Product Catalogue",
        description: "Products, prices, search and recommendations.",
        owner: "discovery",
        domain: "shopping",
        components: &[
            Component {
                name: "catalog-service",
                title: Some("Catalogue Service"),
                description: "The source of truth for the 25,000 products we sell: names, sizes, allergens and images.",
                tags: &["java", "postgres"],
                provides: &["product-catalog-api"],
                depends_on: &[
                    "resource:catalog-db",
                    "resource:product-images",
                    "component:service-kit-jvm",
                ],
                ..COMPONENT
            },
            Component {
                name: "search-service",
                description: "Full-text and faceted product search with typo tolerance and synonyms.",
                tags: &["go", "elasticsearch"],
                provides: &["search-api"],
                consumes: &["product-catalog-api"],
                depends_on: &["component:search-indexer"],
                ..COMPONENT
            },
            Component {
                name: "search-indexer",
                component_type: Worker,
                description: "Keeps the search index in step with catalogue changes and stock-outs.",
                tags: &["rust", "kafka"],
                consumes: &["product-catalog-api", "stock-events-api"],
                depends_on: &["resource:stock-events"],
                ..COMPONENT
            },
            Component {
                name: "recommendations-service",
                lifecycle: Experimental,
                description: "'Frequently bought together' and 'buy it again' suggestions.",
                tags: &["python"],
                provides: &["recommendations-api"],
                consumes: &["product-catalog-api"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "pricing-service",
                description: "Shelf prices, price-per-kilo labels and scheduled price changes.",
                tags: &["go", "postgres"],
                provides: &["pricing-api", "price-changes-api"],
                depends_on: &["resource:catalog-db", "component:service-kit-go"],
                ..COMPONENT
            },
            Component {
                name: "catalog-admin-web",
                title: Some("Catalogue Admin"),
                component_type: Website,
                description: "Internal tool for the trading team to edit products and schedule price changes.",
                tags: &["typescript", "react"],
                consumes: &[
                    "product-catalog-api",
                    "pricing-api",
                    "price-changes-api",
                    "auth-api",
                ],
                depends_on: &["component:design-system"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "identity",
        title: "Customer Identity",
        description: "Sign-in, customer profiles, loyalty and privacy requests.",
        owner: "identity-access",
        domain: "payments",
        components: &[
            Component {
                name: "auth-service",
                title: Some("Auth Service"),
                description: "OAuth 2.1 authorisation server issuing tokens to the web shop and mobile apps.",
                tags: &["go", "postgres"],
                provides: &["auth-api"],
                depends_on: &["resource:customer-db", "component:service-kit-go"],
                ..COMPONENT
            },
            Component {
                name: "customer-profile-service",
                description: "Customer details, addresses and marketing preferences; publishes customer events.",
                tags: &["kotlin", "postgres", "kafka"],
                provides: &["customer-profile-api", "customer-events-api"],
                depends_on: &["resource:customer-db", "component:service-kit-jvm"],
                ..COMPONENT
            },
            Component {
                name: "loyalty-service",
                description: "Northwind Rewards: points for every order and tiers with free delivery.",
                tags: &["kotlin"],
                provides: &["loyalty-api"],
                consumes: &["customer-events-api", "order-events-api"],
                depends_on: &["resource:customer-db"],
                ..COMPONENT
            },
            Component {
                name: "auth-client-go",
                component_type: Library,
                description: "Go middleware that validates Northwind access tokens and exposes the caller.",
                tags: &["go"],
                consumes: &["auth-api"],
                ..COMPONENT
            },
            Component {
                name: "gdpr-erasure-worker",
                component_type: Worker,
                description: "Carries out right-to-erasure requests across every system that stores personal data.",
                tags: &["python", "kafka"],
                consumes: &["customer-events-api", "customer-profile-api"],
                ..COMPONENT
            },
            Component {
                name: "legacy-sso-bridge",
                lifecycle: Deprecated,
                description: "SAML bridge for the retired customer care desktop; switched off in Q3.",
                tags: &["java"],
                consumes: &["auth-api"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "inventory",
        title: "Inventory",
        description: "Stock positions, availability for sale and replenishment from suppliers.",
        owner: "stock-planning",
        domain: "fulfilment",
        components: &[
            Component {
                name: "availability-service",
                title: Some("Availability Service"),
                description: "Answers 'can we sell this today?' per SKU and fulfilment centre and holds reservations.",
                tags: &["rust", "postgres"],
                provides: &["inventory-availability-api"],
                depends_on: &["resource:inventory-db"],
                ..COMPONENT
            },
            Component {
                name: "stock-ledger",
                description: "Append-only ledger of stock movements; publishes every adjustment.",
                tags: &["java", "kafka", "postgres"],
                provides: &["stock-events-api"],
                depends_on: &["resource:inventory-db", "resource:stock-events"],
                ..COMPONENT
            },
            Component {
                name: "replenishment-service",
                description: "Raises purchase orders with suppliers from forecasts and current stock.",
                tags: &["python"],
                provides: &["supplier-orders-api"],
                consumes: &["stock-events-api", "product-catalog-api"],
                depends_on: &["resource:inventory-db"],
                ..COMPONENT
            },
            Component {
                name: "demand-forecaster",
                component_type: Worker,
                lifecycle: Experimental,
                description: "Nightly demand forecast per SKU, weather and bank holidays included.",
                tags: &["python"],
                consumes: &["stock-events-api"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "supplier-portal",
                title: Some("Supplier Portal"),
                component_type: Website,
                description: "Where suppliers confirm purchase orders and book delivery slots at our fulfilment centres.",
                tags: &["typescript", "react"],
                consumes: &["supplier-orders-api", "auth-api"],
                depends_on: &["component:design-system"],
                ..COMPONENT
            },
            Component {
                name: "expiry-tracker",
                component_type: Worker,
                description: "Flags chilled stock nearing its use-by date for markdown or donation.",
                tags: &["go"],
                consumes: &["stock-events-api"],
                depends_on: &["resource:inventory-db"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "warehouse",
        title: "Warehouse",
        description: "Fulfilment centre software: order orchestration, picking, packing and labels.",
        owner: "warehouse-systems",
        domain: "fulfilment",
        components: &[
            Component {
                name: "fulfilment-orchestrator",
                title: Some("Fulfilment Orchestrator"),
                description: "Schedules each order into a pick wave so it is packed before its van leaves.",
                tags: &["java", "kafka"],
                provides: &["fulfilment-orders-api", "fulfilment-events-api"],
                consumes: &["order-events-api", "picking-api", "delivery-slots-api"],
                depends_on: &["resource:order-events", "component:service-kit-jvm"],
                ..COMPONENT
            },
            Component {
                name: "picking-service",
                description: "Builds pick lists per temperature zone and records short picks.",
                tags: &["kotlin", "postgres"],
                provides: &["picking-api"],
                consumes: &["inventory-availability-api"],
                depends_on: &["resource:inventory-db", "component:warehouse-layout-lib"],
                ..COMPONENT
            },
            Component {
                name: "picker-handheld-app",
                title: Some("Picker Handheld App"),
                component_type: Website,
                description: "Progressive web app on the pickers' handheld scanners.",
                tags: &["typescript", "react"],
                consumes: &["picking-api"],
                ..COMPONENT
            },
            Component {
                name: "label-printer-worker",
                component_type: Worker,
                description: "Prints tote and bag labels as orders are packed.",
                tags: &["go"],
                consumes: &["fulfilment-orders-api"],
                depends_on: &["resource:dispatch-queue"],
                ..COMPONENT
            },
            Component {
                name: "warehouse-layout-lib",
                component_type: Library,
                description: "Models aisles, bays and temperature zones to produce efficient pick paths.",
                tags: &["kotlin"],
                ..COMPONENT
            },
            Component {
                name: "cold-chain-monitor",
                lifecycle: Experimental,
                description: "Watches chiller and freezer sensors and alerts before stock is at risk.",
                tags: &["rust"],
                consumes: &["stock-events-api", "notifications-api"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "delivery",
        title: "Delivery",
        description: "Delivery slots, van routes, the courier app and live tracking for customers.",
        owner: "last-mile",
        domain: "fulfilment",
        components: &[
            Component {
                name: "slot-service",
                title: Some("Delivery Slot Service"),
                description: "Offers one-hour delivery slots by postcode and holds them while customers check out.",
                tags: &["go", "postgres"],
                provides: &["delivery-slots-api"],
                consumes: &["route-planning-api"],
                depends_on: &["component:geo-lib", "component:service-kit-go"],
                ..COMPONENT
            },
            Component {
                name: "route-optimizer",
                description: "Plans van routes for each wave, respecting slots, van capacity and traffic.",
                tags: &["rust", "grpc"],
                provides: &["route-planning-api"],
                depends_on: &["component:geo-lib"],
                ..COMPONENT
            },
            Component {
                name: "tracking-service",
                description: "Live order tracking and ETAs shown to customers on the web and in the app.",
                tags: &["go", "kafka"],
                provides: &["delivery-tracking-api"],
                consumes: &["courier-events-api", "fulfilment-events-api"],
                ..COMPONENT
            },
            Component {
                name: "courier-app-backend",
                description: "Backend for the couriers' Android app: manifests, proof of delivery and GPS pings.",
                tags: &["kotlin", "kafka"],
                provides: &["courier-events-api"],
                consumes: &["route-planning-api", "fulfilment-orders-api"],
                depends_on: &["resource:dispatch-queue"],
                ..COMPONENT
            },
            Component {
                name: "dispatch-worker",
                component_type: Worker,
                description: "Assigns packed orders to vans and tells customers their groceries are on the way.",
                tags: &["go"],
                consumes: &[
                    "route-planning-api",
                    "fulfilment-orders-api",
                    "notifications-api",
                ],
                depends_on: &["resource:dispatch-queue"],
                ..COMPONENT
            },
            Component {
                name: "geo-lib",
                component_type: Library,
                description: "Postcode geocoding, drive-time matrices and delivery zone polygons.",
                tags: &["rust"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "platform-services",
        title: "Platform Services",
        description: "The paved road: gateway, service kits, feature flags and notifications.",
        owner: "developer-experience",
        domain: "platform",
        components: &[
            Component {
                name: "api-gateway",
                title: Some("API Gateway"),
                description: "Edge gateway in front of every public API: TLS, rate limits and token checks.",
                tags: &["go"],
                consumes: &["auth-api"],
                depends_on: &["component:service-kit-go", "component:auth-client-go"],
                ..COMPONENT
            },
            Component {
                name: "feature-flag-service",
                description: "Feature flags and percentage rollouts, evaluated in under a millisecond.",
                tags: &["go", "postgres"],
                provides: &["feature-flags-api"],
                depends_on: &["component:service-kit-go"],
                ..COMPONENT
            },
            Component {
                name: "notification-service",
                description: "Sends e-mail, SMS and push notifications with per-customer preferences applied.",
                tags: &["kotlin", "kafka"],
                provides: &["notifications-api"],
                consumes: &["customer-profile-api"],
                depends_on: &["component:service-kit-jvm"],
                ..COMPONENT
            },
            Component {
                name: "service-kit-go",
                title: Some("Service Kit for Go"),
                component_type: Library,
                description: "Logging, metrics, tracing and graceful shutdown for Go services.",
                tags: &["go"],
                ..COMPONENT
            },
            Component {
                name: "service-kit-jvm",
                title: Some("Service Kit for the JVM"),
                component_type: Library,
                description: "Spring Boot starter with Northwind's logging, metrics and Kafka defaults.",
                tags: &["java", "kotlin"],
                ..COMPONENT
            },
            Component {
                name: "status-page",
                component_type: Website,
                description: "Public status page fed by synthetic checks of the shop and delivery tracking.",
                tags: &["typescript"],
                ..COMPONENT
            },
        ],
    },
    System {
        name: "data-platform",
        title: "Data Platform",
        description: "Event collection, the lakehouse and the dashboards built on it.",
        owner: "data-engineering",
        domain: "platform",
        components: &[
            Component {
                name: "event-collector",
                description: "Receives clickstream events from the web shop and apps and writes them to Kafka.",
                tags: &["go", "kafka"],
                provides: &["analytics-events-api"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "lakehouse-ingest",
                component_type: Worker,
                description: "Streams business events into Iceberg tables in the data lake.",
                tags: &["python", "kafka"],
                consumes: &[
                    "order-events-api",
                    "payment-events-api",
                    "stock-events-api",
                    "fulfilment-events-api",
                    "analytics-events-api",
                ],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "bi-dashboards",
                title: Some("BI Dashboards"),
                component_type: Website,
                description: "Self-service dashboards for trading, operations and finance.",
                tags: &["typescript"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "dbt-models",
                component_type: Library,
                description: "dbt models that turn raw events into the tables analysts query.",
                tags: &["python", "sql", "dbt"],
                depends_on: &["resource:data-lake"],
                ..COMPONENT
            },
            Component {
                name: "clickstream-sdk",
                component_type: Library,
                description: "Browser and React Native SDK for sending analytics events.",
                tags: &["typescript"],
                consumes: &["analytics-events-api"],
                ..COMPONENT
            },
            Component {
                name: "legacy-etl",
                component_type: Worker,
                lifecycle: Deprecated,
                description: "Nightly batch copy of the orders database; being replaced by lakehouse-ingest.",
                tags: &["python"],
                depends_on: &["resource:orders-db", "resource:data-lake"],
                ..COMPONENT
            },
        ],
    },
];
