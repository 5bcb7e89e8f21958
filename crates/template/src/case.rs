//! The case filters: `kebab_case`, `snake_case`, `pascal_case`, `camel_case`, `title_case`.

/// Splits into words at non-alphanumerics, lower→upper changes and the end of acronyms
/// (`HTTPServer` → `HTTP`, `Server`).
pub(crate) fn words(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let mut words = Vec::new();
    let mut current = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if !c.is_alphanumeric() {
            if !current.is_empty() {
                words.push(std::mem::take(&mut current));
            }
            continue;
        }
        if let Some(&prev) = current.chars().last().as_ref() {
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            let boundary = (prev.is_lowercase() && c.is_uppercase())
                || (prev.is_uppercase() && c.is_uppercase() && next_lower);
            if boundary {
                words.push(std::mem::take(&mut current));
            }
        }
        current.push(c);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}

fn capitalize(w: &str) -> String {
    let mut chars = w.chars();
    chars.next().map_or_else(String::new, |f| {
        f.to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect()
    })
}

pub(crate) fn kebab(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("-")
}

pub(crate) fn snake(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| w.to_lowercase())
        .collect::<Vec<_>>()
        .join("_")
}

pub(crate) fn pascal(s: &str) -> String {
    words(s).iter().map(|w| capitalize(w)).collect()
}

pub(crate) fn camel(s: &str) -> String {
    let p = pascal(s);
    let mut chars = p.chars();
    chars
        .next()
        .map_or_else(String::new, |f| f.to_lowercase().chain(chars).collect())
}

pub(crate) fn title(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| capitalize(w))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cases() {
        for (input, k, sn, p, c, t) in [
            (
                "payments-api",
                "payments-api",
                "payments_api",
                "PaymentsApi",
                "paymentsApi",
                "Payments Api",
            ),
            (
                "HTTPServer v2",
                "http-server-v2",
                "http_server_v2",
                "HttpServerV2",
                "httpServerV2",
                "Http Server V2",
            ),
            (
                "order_events",
                "order-events",
                "order_events",
                "OrderEvents",
                "orderEvents",
                "Order Events",
            ),
            (
                "myService",
                "my-service",
                "my_service",
                "MyService",
                "myService",
                "My Service",
            ),
            ("", "", "", "", "", ""),
        ] {
            assert_eq!(kebab(input), k, "{input}");
            assert_eq!(snake(input), sn, "{input}");
            assert_eq!(pascal(input), p, "{input}");
            assert_eq!(camel(input), c, "{input}");
            assert_eq!(title(input), t, "{input}");
        }
    }
}
