#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

#[test]
fn keep_holds_the_most_important_in_offered_order() {
    let mut keep = Keep::new(3);
    let offers = [
        ("w1", Status::Warning, Severity::Low),
        ("f1", Status::Failed, Severity::Medium),
        ("e1", Status::Excepted, Severity::Critical),
        ("w2", Status::Warning, Severity::High),
        ("f2", Status::Failed, Severity::Critical),
        ("w3", Status::Warning, Severity::High),
    ];
    for (name, status, severity) in offers {
        keep.offer(name, rank(status, severity));
    }
    let (kept, dropped) = keep.finish();
    // Both failed findings and the earlier of the two high warnings; back in report order.
    assert_eq!(kept, ["f1", "w2", "f2"]);
    assert_eq!(dropped, 3);

    let mut nothing = Keep::new(0);
    nothing.offer("x", rank(Status::Failed, Severity::Critical));
    assert_eq!(nothing.finish(), (Vec::<&str>::new(), 1));
}

#[test]
fn clipping_is_idempotent_and_keeps_characters_whole() {
    let mut text = "é".repeat(10);
    clip(&mut text, 4);
    assert_eq!(text, "ééé…");
    let again = text.clone();
    clip(&mut text, 4);
    assert_eq!(text, again);
    let mut short = "abc".to_owned();
    clip(&mut short, 3);
    assert_eq!(short, "abc");
}
