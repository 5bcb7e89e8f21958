//! api-service in each language: routes counted, traces exported, drained on SIGTERM, SLOs fed.

use super::*;

#[test]
fn api_service_in_go_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::Go);
}

#[test]
fn api_service_in_typescript_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::TypeScript);
}

#[test]
fn api_service_in_python_runs_drains_and_feeds_its_slos() {
    api_service_e2e(Lang::Python);
}

fn api_service_e2e(lang: Lang) {
    if !have_tools(lang.tools()) || !have_tools(&["prometheus", "promtool"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("orders-api");
    let port = free_port();
    new_repo(
        "api-service",
        &repo,
        "orders-api",
        &[&format!("port={port}"), "latency_ms=250", lang.answer()],
    );
    // The team adds routes, where the template says to.
    lang.add_team_routes(&repo);
    let launch = lang.build(&repo);

    let objects = rendered_objects(&repo);
    let (job, scrape_port) = scrape_job(&objects, Duration::from_secs(1));
    assert_eq!(scrape_port, port);
    assert_eq!(job.job, "orders-api");
    let deployment = objects.iter().find(|o| o["kind"] == "Deployment").unwrap();
    let container = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(container["readinessProbe"]["httpGet"]["path"], "/readyz");

    let collector = Collector::start();
    let mut service = Proc::start(
        launch
            .command()
            .env("PORT", port.to_string())
            .env("SHUTDOWN_DELAY", "3s")
            .env("SHUTDOWN_TIMEOUT", "10s")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{}", collector.port),
            )
            .env("OTEL_BSP_SCHEDULE_DELAY", "200")
            .env(
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=e2e",
            ),
    );
    // "listening" is logged once the port is bound: it answers at once.
    let listening = service.wait_log("listening", Duration::from_secs(10));
    assert!(
        listening["addr"]
            .as_str()
            .unwrap()
            .ends_with(&format!(":{port}")),
        "{listening}"
    );
    assert_eq!(status(port, "/readyz"), Some(200));

    let Some(prometheus) = prometheus_for(&repo, job) else {
        return;
    };
    wait_scraped(&prometheus, "orders-api");
    // Traffic over a few scrapes: 60 ok, 6 failures, 3 slow, 4 unknown paths.
    for round in 0..6 {
        for _ in 0..10 {
            assert_eq!(status(port, "/"), Some(200));
        }
        assert_eq!(status(port, "/fail"), Some(500));
        if round % 2 == 0 {
            assert_eq!(status(port, "/slow/300"), Some(200));
        }
        if round < 4 {
            assert_eq!(status(port, "/no/such/path"), Some(404));
        }
        std::thread::sleep(Duration::from_millis(700));
    }

    // A failed request with a trace context: a JSON log line with its trace id, and a span.
    let trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let (code, _) = request(
        port,
        "/fail",
        &[("traceparent", &format!("00-{trace}-00f067aa0ba902b7-01"))],
    )
    .unwrap();
    assert_eq!(code, 500);
    // (Logged when the response is done: the line may follow the answer by a moment.)
    let failed = service.wait_log_where(Duration::from_secs(5), |v| {
        v["msg"] == "request failed" && v["trace_id"] == trace
    });
    assert_eq!(failed["route"], "/fail");
    assert_eq!(failed["level"], "ERROR");
    if lang == Lang::Python {
        // Python's OTLP/HTTP exporter speaks protobuf only: the trace and parent span ids (raw
        // bytes), the span name, route and resource are in the request.
        let hex = |h: &str| {
            (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect::<Vec<u8>>()
        };
        let want: Vec<Vec<u8>> = vec![
            hex(trace),
            hex("00f067aa0ba902b7"),
            b"GET /fail".to_vec(),
            b"http.route".to_vec(),
            b"orders-api".to_vec(),
            b"deployment.environment.name".to_vec(),
        ];
        collector.wait_raw(|body| {
            want.iter()
                .all(|w| body.windows(w.len()).any(|window| window == w.as_slice()))
        });
    } else {
        let span = collector.wait_span(|s| s["traceId"] == trace);
        assert_eq!(span["parentSpanId"], "00f067aa0ba902b7");
        assert_eq!(span["name"], "GET /fail");
        assert_eq!(span["kind"], 2);
        assert_eq!(span["status"]["code"], 2);
        assert_eq!(attribute(&span, "http.route")["stringValue"], "/fail");
        assert_eq!(
            int_value(attribute(&span, "http.response.status_code")),
            Some(500)
        );
        let resource = span["resource"]["attributes"].to_string();
        assert!(
            resource.contains("\"service.name\"") && resource.contains("orders-api"),
            "{resource}"
        );
        assert!(
            resource.contains("deployment.environment.name"),
            "{resource}"
        );
    }

    // Prometheus scraped every route under its pattern and method.
    let job_sel = r#"job="orders-api""#;
    assert!(
        prometheus.wait_for(
            &format!(
                r#"http_requests_total{{{job_sel},route="/fail",method="GET",code="500"}} >= 7"#
            ),
            Duration::from_secs(20),
            |v| v.as_array().is_some_and(|a| !a.is_empty()),
        ),
        "no /fail series scraped:\n{}",
        prometheus.log()
    );
    let (root, slow_route) = lang.routes();
    for (route, code) in [(root, "200"), (slow_route, "200"), ("unmatched", "404")] {
        let v = query_value(
            &prometheus,
            &format!(
                r#"http_requests_total{{{job_sel},route="{route}",method="GET",code="{code}"}}"#
            ),
        );
        assert!(v >= 1.0, "{route} {code}: {v}");
    }
    let runtime = lang.runtime_metric();
    assert!(
        query_value(&prometheus, &format!("{runtime}{{{job_sel}}}")).is_finite(),
        "{runtime} not scraped"
    );

    // The SLO rules turned that traffic into budgets. 7 of 74 requests failed (budget 0.1%):
    // spent. 3 of 74 took longer than 250 ms (budget 1%): burning faster than the budget
    // allows (the 30-day ratio averages the 5-minute ratios, quiet windows before the traffic
    // counting as good ones).
    wait_recorded(
        &prometheus,
        "orders-api",
        &["requests-availability", "requests-latency"],
    );
    let slos = slo_status(&repo, &prometheus);
    let availability = slo_named(&slos, "requests-availability");
    assert!(
        availability["budget_remaining"].as_f64().unwrap() < 0.0,
        "{availability:#}"
    );
    assert_eq!(availability["state"], "exhausted", "{availability:#}");
    let latency = slo_named(&slos, "requests-latency");
    assert!(
        latency["budget_remaining"].as_f64().unwrap() < 1.0,
        "{latency:#}"
    );
    assert!(
        latency["current_burn_rate"].as_f64().unwrap() > 1.0,
        "{latency:#}"
    );
    let ratio = query_value(
        &prometheus,
        r#"slo:sli_error:ratio_rate5m{sloth_service="orders-api",sloth_slo="requests-availability"}"#,
    );
    assert!(
        (0.03..0.2).contains(&ratio),
        "availability error ratio {ratio}"
    );

    // Drain: a slow request in flight when SIGTERM arrives completes; readiness turns false
    // first, while requests are still served during the delay; then the process exits 0.
    let slow = std::thread::spawn(move || request(port, "/slow/4000", &[]));
    std::thread::sleep(Duration::from_millis(300));
    let signalled = Instant::now();
    service.signal("TERM");
    wait_status(port, "/readyz", 503, Duration::from_millis(2500));
    assert_eq!(
        status(port, "/"),
        Some(200),
        "still serving during the delay"
    );
    let (code, body) = slow
        .join()
        .unwrap()
        .expect("the slow request got no answer");
    assert_eq!((code, body.as_str()), (200, "slow done\n"));
    assert_eq!(service.wait(Duration::from_secs(15)), 0);
    let took = signalled.elapsed();
    assert!(
        took >= Duration::from_millis(3500),
        "exited {took:?} after SIGTERM"
    );
    assert_eq!(status(port, "/readyz"), None, "no longer listening");
    service.wait_log("draining: readiness is off", Duration::from_secs(1));
    service.wait_log("stopped", Duration::from_secs(1));
}
