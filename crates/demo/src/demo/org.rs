//! Northwind Labs' people: the organisation, its departments, teams and users.

use serde_json::{Map, Value, json};

use super::{EMAIL_DOMAIN, entity};

pub(crate) const ORGANIZATION: &str = "northwind";

pub(crate) struct Department {
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) teams: &'static [Team],
}

pub(crate) struct Team {
    pub(crate) name: &'static str,
    pub(crate) display_name: &'static str,
    pub(crate) description: &'static str,
    /// Full names; user names are derived from them (`Maya Okafor` → `maya.okafor`).
    pub(crate) people: &'static [&'static str],
}

pub(crate) const DEPARTMENTS: &[Department] = &[
    Department {
        name: "commerce-engineering",
        display_name: "Commerce Engineering",
        description: "Everything a customer touches between opening the app and paying for their groceries.",
        teams: &[
            Team {
                name: "web-experience",
                display_name: "Web Experience",
                description: "Builds the storefront web app, the mobile backend-for-frontend and the design system.",
                people: &[
                    "Maya Okafor",
                    "Liam Brennan",
                    "Sofia Marquez",
                    "Kenji Watanabe",
                    "Ada Nwosu",
                ],
            },
            Team {
                name: "basket-checkout",
                display_name: "Basket & Checkout",
                description: "Owns the basket, the checkout flow, promotions and order placement.",
                people: &[
                    "Priya Raman",
                    "Tom Hughes",
                    "Lena Fischer",
                    "Omar Haddad",
                    "Grace Kim",
                    "Jonas Berg",
                ],
            },
            Team {
                name: "payments-core",
                display_name: "Payments Core",
                description: "Card and wallet payments, refunds, settlement and fraud scoring.",
                people: &["Aisha Bello", "Marco Rossi", "Hannah Schmidt", "Dev Patel"],
            },
            Team {
                name: "discovery",
                display_name: "Search & Discovery",
                description: "The product catalogue, search, pricing and personalised recommendations.",
                people: &[
                    "Noah Andersen",
                    "Yuki Tanaka",
                    "Clara Dubois",
                    "Samuel Mensah",
                    "Ines Ferreira",
                ],
            },
        ],
    },
    Department {
        name: "fulfilment-engineering",
        display_name: "Fulfilment Engineering",
        description: "Stock, fulfilment centres and the last mile: the right groceries at the right door, still cold.",
        teams: &[
            Team {
                name: "stock-planning",
                display_name: "Stock & Planning",
                description: "Stock levels, availability, supplier replenishment and demand forecasting.",
                people: &[
                    "Felix Wagner",
                    "Amara Diallo",
                    "Ruth Cohen",
                    "Mateo Alvarez",
                ],
            },
            Team {
                name: "warehouse-systems",
                display_name: "Warehouse Systems",
                description: "The software running our fulfilment centres: orchestration, picking and labelling.",
                people: &[
                    "Erik Lindqvist",
                    "Fatima Zahra",
                    "George Papadopoulos",
                    "Nina Kowalski",
                    "Arjun Mehta",
                ],
            },
            Team {
                name: "last-mile",
                display_name: "Last Mile",
                description: "Delivery slots, route planning, the courier app and live order tracking.",
                people: &[
                    "Chloe Martin",
                    "Kwame Asante",
                    "Elena Popescu",
                    "Ravi Iyer",
                    "Zoe Campbell",
                    "Lucas Silva",
                ],
            },
        ],
    },
    Department {
        name: "platform-engineering",
        display_name: "Platform Engineering",
        description: "Shared infrastructure, identity and data: the paved road every other team builds on.",
        teams: &[
            Team {
                name: "developer-experience",
                display_name: "Developer Experience",
                description: "The API gateway, service kits, feature flags and notifications.",
                people: &["Iris Novak", "Ben Carter", "Mei Chen", "Tobias Keller"],
            },
            Team {
                name: "data-engineering",
                display_name: "Data Engineering",
                description: "Event collection, the data lake and the models analysts rely on.",
                people: &["Leila Karimi", "Oscar Nielsen", "Hana Sato"],
            },
            Team {
                name: "identity-access",
                display_name: "Identity & Access",
                description: "Customer sign-in, profiles, loyalty and privacy tooling.",
                people: &[
                    "Daniel O'Connor",
                    "Freya Olsen",
                    "Victor Nguyen",
                    "Isla Mackenzie",
                ],
            },
        ],
    },
];

/// `Daniel O'Connor` → `daniel.oconnor`.
pub(crate) fn user_name(full_name: &str) -> String {
    full_name
        .split_whitespace()
        .map(|word| {
            word.chars()
                .filter(char::is_ascii_alphanumeric)
                .map(|c| c.to_ascii_lowercase())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".")
}

/// What distinguishes one Group entity from another.
struct GroupFields<'a> {
    name: &'a str,
    description: &'a str,
    group_type: &'a str,
    display_name: &'a str,
    email: String,
    parent: Option<&'a str>,
    children: Vec<&'a str>,
    members: Vec<String>,
}

fn group(fields: GroupFields<'_>) -> Value {
    let mut spec = Map::new();
    spec.insert("type".into(), fields.group_type.into());
    spec.insert(
        "profile".into(),
        json!({"displayName": fields.display_name, "email": fields.email}),
    );
    if let Some(parent) = fields.parent {
        spec.insert("parent".into(), parent.into());
    }
    // Backstage requires `children` even when empty.
    spec.insert("children".into(), fields.children.into());
    if !fields.members.is_empty() {
        spec.insert("members".into(), fields.members.into());
    }
    entity(
        "Group",
        json!({"name": fields.name, "description": fields.description}),
        Value::Object(spec),
    )
}

/// The organisation, departments and teams, parents before children.
pub(crate) fn group_entities() -> Vec<Value> {
    let mut groups = vec![group(GroupFields {
        name: ORGANIZATION,
        description: "Northwind Labs delivers fresh groceries across the UK within a one-hour slot.",
        group_type: "organization",
        display_name: "Northwind Labs",
        email: format!("hello@{EMAIL_DOMAIN}"),
        parent: None,
        children: DEPARTMENTS.iter().map(|d| d.name).collect(),
        members: Vec::new(),
    })];
    for department in DEPARTMENTS {
        groups.push(group(GroupFields {
            name: department.name,
            description: department.description,
            group_type: "department",
            display_name: department.display_name,
            email: format!("{}@{EMAIL_DOMAIN}", department.name),
            parent: Some(ORGANIZATION),
            children: department.teams.iter().map(|t| t.name).collect(),
            members: Vec::new(),
        }));
    }
    for department in DEPARTMENTS {
        for team in department.teams {
            groups.push(group(GroupFields {
                name: team.name,
                description: team.description,
                group_type: "team",
                display_name: team.display_name,
                email: format!("team-{}@{EMAIL_DOMAIN}", team.name),
                parent: Some(department.name),
                children: Vec::new(),
                members: team.people.iter().map(|p| user_name(p)).collect(),
            }));
        }
    }
    groups
}

pub(crate) fn user_entities() -> Vec<Value> {
    all_teams()
        .flat_map(|team| {
            team.people.iter().map(move |full_name| {
                let name = user_name(full_name);
                entity(
                    "User",
                    json!({"name": name}),
                    json!({
                        "profile": {
                            "displayName": full_name,
                            "email": format!("{name}@{EMAIL_DOMAIN}"),
                        },
                        "memberOf": [team.name],
                    }),
                )
            })
        })
        .collect()
}

pub(crate) fn all_teams() -> impl Iterator<Item = &'static Team> {
    DEPARTMENTS.iter().flat_map(|d| d.teams.iter())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_user_names_from_full_names() {
        assert_eq!(user_name("Maya Okafor"), "maya.okafor");
        assert_eq!(user_name("Daniel O'Connor"), "daniel.oconnor");
    }

    #[test]
    fn teams_have_three_to_six_people() {
        for team in all_teams() {
            assert!((3..=6).contains(&team.people.len()), "{}", team.name);
        }
    }
}
