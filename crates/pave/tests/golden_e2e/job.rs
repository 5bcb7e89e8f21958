//! batch-job: a run completes, a stuck run is cut at its deadline.

use super::*;

#[test]
fn batch_job_completes_and_a_stuck_run_is_cut_at_its_deadline() {
    if !have_tools(&["go"]) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("nightly-export");
    new_repo(
        "batch-job",
        &repo,
        "nightly-export",
        &["deadline_minutes=30", "time_zone=Europe/Berlin"],
    );
    let bin = build(&repo);

    // The CronJob carries the deadline, time zone and concurrency policy; the job's own
    // deadline is 15 s shorter.
    let objects = rendered_objects(&repo);
    let cron = objects.iter().find(|o| o["kind"] == "CronJob").unwrap();
    assert_eq!(cron["spec"]["timeZone"], "Europe/Berlin");
    assert_eq!(cron["spec"]["concurrencyPolicy"], "Forbid");
    assert_eq!(
        cron["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"],
        1800
    );
    let env = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let timeout = env.iter().find(|e| e["name"] == "RUN_TIMEOUT").unwrap();
    assert_eq!(timeout["value"], "1785s");

    let mut ok = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "30s"));
    assert_eq!(ok.wait(Duration::from_secs(10)), 0);
    let done = ok.wait_log("run succeeded", Duration::from_secs(1));
    assert!(done["trace_id"].as_str().is_some_and(|t| t.len() == 32));

    // The team's work gets stuck and ignores its context: cut at RUN_TIMEOUT plus 5 s.
    let main_go = repo.join("main.go");
    let text = std::fs::read_to_string(&main_go).unwrap();
    let stuck = text.replacen(
        "\treturn ctx.Err()\n}",
        "\ttime.Sleep(time.Hour)\n\treturn ctx.Err()\n}",
        1,
    );
    assert_ne!(stuck, text);
    std::fs::write(&main_go, stuck).unwrap();
    run_ok(go(&repo).args(["build", "-o"]).arg(&bin).arg("."));
    let started = Instant::now();
    let mut stuck = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "1s"));
    assert_eq!(stuck.wait(Duration::from_secs(20)), 1);
    let took = started.elapsed();
    assert!(
        (Duration::from_secs(5)..Duration::from_secs(12)).contains(&took),
        "{took:?}"
    );
    let failed = stuck.wait_log("run failed", Duration::from_secs(1));
    assert_eq!(failed["deadline"], true, "{failed}");
    assert!(
        failed["err"]
            .as_str()
            .unwrap()
            .contains("did not return within 5s"),
        "{failed}"
    );

    // SIGTERM (Kubernetes stopping the pod) ends a stuck run the same way.
    let mut stopped = Proc::start(Command::new(&bin).env("RUN_TIMEOUT", "1h"));
    stopped.wait_log("working", Duration::from_secs(5));
    stopped.signal("TERM");
    assert_eq!(stopped.wait(Duration::from_secs(15)), 1);
    let failed = stopped.wait_log("run failed", Duration::from_secs(1));
    assert_eq!(failed["deadline"], false, "{failed}");
}
