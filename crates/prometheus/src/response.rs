//! The response envelope: `{"status": "success"|"error", "data": {...}, "errorType", "error",
//! "warnings"}`, parsed without I/O.

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::{Data, Error, Labels, Point, QueryResult, Sample, Series};

#[derive(Deserialize)]
struct Envelope<'a> {
    status: String,
    #[serde(borrow, default)]
    data: Option<&'a RawValue>,
    #[serde(rename = "errorType", default)]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

#[derive(Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
enum RawData {
    Vector(Vec<RawSample>),
    Scalar(RawPoint),
    Matrix(Vec<RawSeries>),
    String(RawPoint),
}

#[derive(Deserialize)]
struct RawPoint(f64, String);

#[derive(Deserialize)]
struct RawSample {
    #[serde(default)]
    metric: Labels,
    value: Option<RawPoint>,
}

#[derive(Deserialize)]
struct RawSeries {
    #[serde(default)]
    metric: Labels,
    #[serde(default)]
    values: Vec<RawPoint>,
}

/// Parses a sample value as Prometheus (Go's `strconv.FormatFloat`) writes it.
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "NaN" => Some(f64::NAN),
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        _ => s.parse().ok().filter(|v: &f64| !v.is_nan()),
    }
}

/// The first 200 characters of `s` on one line (for messages).
pub(crate) fn shorten(s: &str) -> String {
    const MAX: usize = 200;
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", &one_line[..i]),
        None => one_line,
    }
}

fn snippet(body: &[u8]) -> String {
    if body.is_empty() {
        return "(an empty body)".to_owned();
    }
    format!("`{}`", shorten(&String::from_utf8_lossy(body)))
}

/// Turns an answer (HTTP `status`, `body`) to `query` sent to `url` into a result or an error.
///
/// # Errors
/// [`Error::Api`] for `"status": "error"`, [`Error::HttpStatus`] for a non-2xx answer that is
/// not an API envelope, [`Error::Garbage`] for a 2xx answer that is not one.
pub fn parse_response(
    url: &str,
    query: &str,
    status: u16,
    body: &[u8],
) -> Result<QueryResult, Error> {
    let garbage = |reason: String| {
        if (200..300).contains(&status) {
            Error::Garbage {
                url: url.to_owned(),
                reason,
                snippet: snippet(body),
            }
        } else {
            Error::HttpStatus {
                url: url.to_owned(),
                status,
                snippet: snippet(body),
            }
        }
    };
    let envelope: Envelope<'_> = serde_json::from_slice(body)
        .map_err(|e| garbage(format!("not a JSON API envelope: {e}")))?;
    match envelope.status.as_str() {
        "success" if (200..300).contains(&status) => {}
        "error" | "success" => {
            return Err(Error::Api {
                url: url.to_owned(),
                status,
                query: shorten(query),
                error_type: envelope.error_type.unwrap_or_else(|| "error".to_owned()),
                error: envelope
                    .error
                    .unwrap_or_else(|| "(no error message)".to_owned()),
            });
        }
        other => return Err(garbage(format!("unknown status `{}`", shorten(other)))),
    }
    let Some(data) = envelope.data else {
        return Err(garbage("no `data`".to_owned()));
    };
    let data: RawData =
        serde_json::from_str(data.get()).map_err(|e| garbage(format!("unexpected `data`: {e}")))?;
    let point = |p: RawPoint| {
        parse_value(&p.1)
            .map(|value| Point {
                timestamp: p.0,
                value,
            })
            .ok_or_else(|| garbage(format!("`{}` is not a sample value", shorten(&p.1))))
    };
    let data = match data {
        RawData::Vector(samples) => Data::Vector(
            samples
                .into_iter()
                .map(|s| {
                    let Some(value) = s.value else {
                        return Err(garbage(
                            "a vector sample without `value` (native histograms are not supported)"
                                .to_owned(),
                        ));
                    };
                    Ok(Sample {
                        labels: s.metric,
                        point: point(value)?,
                    })
                })
                .collect::<Result<_, _>>()?,
        ),
        RawData::Scalar(p) => Data::Scalar(point(p)?),
        RawData::Matrix(series) => Data::Matrix(
            series
                .into_iter()
                .map(|s| {
                    Ok(Series {
                        labels: s.metric,
                        points: s.values.into_iter().map(point).collect::<Result<_, _>>()?,
                    })
                })
                .collect::<Result<_, Error>>()?,
        ),
        RawData::String(RawPoint(timestamp, value)) => Data::String { timestamp, value },
    };
    Ok(QueryResult {
        data,
        warnings: envelope.warnings,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    const URL: &str = "http://127.0.0.1:9090";

    fn parse(status: u16, body: &str) -> Result<QueryResult, Error> {
        parse_response(URL, "up", status, body.as_bytes())
    }

    #[test]
    fn vectors_with_special_values() {
        let r = parse(
            200,
            r#"{"status":"success","data":{"resultType":"vector","result":[
                {"metric":{"__name__":"up","job":"a"},"value":[1700000000.5,"1"]},
                {"metric":{"job":"b"},"value":[1700000000.5,"NaN"]},
                {"metric":{"job":"c"},"value":[1700000000.5,"+Inf"]},
                {"metric":{"job":"d"},"value":[1700000000.5,"-Inf"]},
                {"metric":{"job":"e"},"value":[1700000000.5,"1e-05"]}]},
                "warnings":["partial"]}"#,
        )
        .unwrap();
        assert_eq!(r.warnings, ["partial"]);
        let Data::Vector(v) = r.data else {
            panic!("{:?}", r.data)
        };
        assert_eq!(v.len(), 5);
        assert_eq!(v[0].labels["job"], "a");
        assert_eq!(v[0].point.value, 1.0);
        assert_eq!(v[0].point.timestamp, 1_700_000_000.5);
        assert!(v[1].point.value.is_nan());
        assert_eq!(v[2].point.value, f64::INFINITY);
        assert_eq!(v[3].point.value, f64::NEG_INFINITY);
        assert_eq!(v[4].point.value, 0.00001);
    }

    #[test]
    fn scalar_matrix_and_string() {
        let r = parse(
            200,
            r#"{"status":"success","data":{"resultType":"scalar","result":[1,"2.5"]}}"#,
        )
        .unwrap();
        assert_eq!(
            r.data,
            Data::Scalar(Point {
                timestamp: 1.0,
                value: 2.5
            })
        );
        let r = parse(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"b"},"values":[[1,"1"],[2,"2"]]}]}}"#,
        )
        .unwrap();
        let Data::Matrix(m) = r.data else { panic!() };
        assert_eq!(m[0].points.len(), 2);
        let r = parse(
            200,
            r#"{"status":"success","data":{"resultType":"string","result":[1,"hello"]}}"#,
        )
        .unwrap();
        assert_eq!(r.data.kind(), "string");
    }

    #[test]
    fn api_errors_carry_type_and_message() {
        let e = parse(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected end of input"}"#,
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Api { status: 400, .. }), "{text}");
        assert!(
            text.contains("HTTP 400") && text.contains("bad_data") && text.contains("parse error"),
            "{text}"
        );
        assert!(text.contains(URL) && text.contains("`up`"), "{text}");
    }

    #[test]
    fn garbage_is_named_with_a_snippet() {
        let e = parse(200, "<html><body>Welcome to nginx</body></html>").unwrap_err();
        let text = e.to_string();
        assert!(matches!(e, Error::Garbage { .. }), "{text}");
        assert!(
            text.contains("not a Prometheus API response") && text.contains("Welcome to nginx"),
            "{text}"
        );

        let e = parse(502, "Bad Gateway").unwrap_err();
        assert!(
            e.to_string().contains("HTTP 502") && e.to_string().contains("Bad Gateway"),
            "{e}"
        );

        let e = parse(200, "").unwrap_err();
        assert!(e.to_string().contains("empty body"), "{e}");

        // Valid JSON, wrong shapes.
        for body in [
            r#"{"status":"success"}"#,
            r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"x"]}]}}"#,
            r#"{"status":"success","data":{"resultType":"tensor","result":[]}}"#,
            r#"{"status":"maybe","data":{}}"#,
            r#"[1,2,3]"#,
        ] {
            let e = parse(200, body).unwrap_err();
            assert!(matches!(e, Error::Garbage { .. }), "{body}: {e}");
        }
    }

    #[test]
    fn long_bodies_are_cut() {
        let body = "x".repeat(10_000);
        let text = parse(200, &body).unwrap_err().to_string();
        assert!(text.len() < 600, "{}", text.len());
        assert!(text.contains('…'));
    }
}
