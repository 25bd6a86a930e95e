//! The operator commands of the `softphone-presence` binary against DynamoDB (moto).

use std::path::PathBuf;
use std::process::{Command, Output};

use shared::directory::Directory;

use crate::helpers::DEMO_DIRECTORY;

fn unique_table() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("operator-{}-{nanos}", std::process::id())
}

fn run(table: &str, args: &[&str]) -> Output {
    assert!(
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB").is_ok(),
        "operator tests need the local DynamoDB that scripts/test starts"
    );
    Command::new(env!("CARGO_BIN_EXE_softphone-presence"))
        .args(args)
        .env("TABLE_NAME", table)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn demo_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("demo/directory.json")
}

#[test]
fn create_import_export_round_trips_and_reimport_changes_nothing() {
    let table = unique_table();
    let created = stdout(&run(&table, &["create-table"]));
    assert!(created.contains("created"), "{created}");
    let again = stdout(&run(&table, &["create-table"]));
    assert!(
        again.contains("already exists"),
        "create-table is idempotent: {again}"
    );

    let demo = demo_path();
    let first = stdout(&run(&table, &["import-directory", demo.to_str().unwrap()]));
    assert!(
        first.contains("13 added, 0 updated, 0 removed, 0 unchanged"),
        "{first}"
    );
    let second = stdout(&run(&table, &["import-directory", demo.to_str().unwrap()]));
    assert!(
        second.contains("0 added, 0 updated, 0 removed, 13 unchanged"),
        "{second}"
    );

    let exported = stdout(&run(&table, &["export-directory"]));
    let round_trip = Directory::parse(&exported).expect("export is valid import input");
    assert_eq!(round_trip, Directory::parse(DEMO_DIRECTORY).unwrap());
}

#[test]
fn a_broken_directory_is_refused_whole_and_writes_nothing() {
    let table = unique_table();
    stdout(&run(&table, &["create-table"]));
    let broken = std::env::temp_dir().join(format!("{table}.json"));
    // One good org and one with three problems: nothing at all may be written.
    std::fs::write(
        &broken,
        r#"{"orgs": [
            {"orgId": "org_ok", "phones": [{"id": "p", "phoneNumber": "+14155550100",
              "friendlyName": "Fine", "userEmail": "ok@example.com"}]},
            {"orgId": "org_bad", "groups": [{"id": "g", "name": "G", "members": ["not-an-email"]}],
             "phones": [{"id": "p", "phoneNumber": "12345", "friendlyName": "Bad", "groupId": "missing"}]}
        ]}"#,
    )
    .unwrap();
    let out = run(&table, &["import-directory", broken.to_str().unwrap()]);
    let _ = std::fs::remove_file(&broken);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for problem in [
        "3 problem(s)",
        "orgs[1].groups[0].members[0]: must be an email address",
        "orgs[1].phones[0].phoneNumber",
        "orgs[1].phones[0].groupId",
    ] {
        assert!(stderr.contains(problem), "{problem} missing in:\n{stderr}");
    }
    let exported = stdout(&run(&table, &["export-directory"]));
    assert_eq!(
        Directory::parse(&exported).unwrap(),
        Directory::default(),
        "nothing written"
    );
}

#[test]
fn commands_name_a_missing_table_setting() {
    let out = Command::new(env!("CARGO_BIN_EXE_softphone-presence"))
        .arg("export-directory")
        .env_remove("TABLE_NAME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("TABLE_NAME is required"));
}

/// `IDENTITY_STYLE=email` names no org: a second org, in the file or already in the table,
/// would share identities with the first, so the import refuses it and writes nothing; the
/// local server refuses to start on such a directory too.
#[test]
fn the_email_identity_style_refuses_a_second_org() {
    let table = unique_table();
    stdout(&run(&table, &["create-table"]));
    let file = |name: &str, orgs: &str| {
        let path = std::env::temp_dir().join(format!("{table}-{name}.json"));
        std::fs::write(&path, format!(r#"{{"orgs": [{orgs}]}}"#)).unwrap();
        path
    };
    let one = r#"{"orgId": "org_a", "users": [{"email": "ann@example.com"}]}"#;
    let other = r#"{"orgId": "org_b", "users": [{"email": "ann@example.com"}]}"#;
    let both = file("both", &format!("{one},{other}"));
    let first = file("a", one);
    let second = file("b", other);
    let email_style = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_softphone-presence"))
            .args(args)
            .env("TABLE_NAME", &table)
            .env("IDENTITY_STYLE", "email")
            .output()
            .unwrap()
    };
    let refused = |out: &Output| {
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("IDENTITY_STYLE=email names no org") && stderr.contains("org_a, org_b"),
            "{stderr}"
        );
    };
    refused(&email_style(&["import-directory", both.to_str().unwrap()]));
    stdout(&email_style(&["import-directory", first.to_str().unwrap()]));
    refused(&email_style(&[
        "import-directory",
        second.to_str().unwrap(),
    ]));
    let exported = Directory::parse(&stdout(&run(&table, &["export-directory"]))).unwrap();
    let orgs: Vec<_> = exported.orgs.iter().map(|o| o.org_id.to_string()).collect();
    assert_eq!(orgs, ["org_a"], "only the first import was written");
    // The safe style takes both: the same email is a person of each org.
    stdout(&run(&table, &["import-directory", both.to_str().unwrap()]));
    refused(&email_style(&[
        "serve",
        "--port",
        "0",
        "--directory",
        both.to_str().unwrap(),
    ]));
    for path in [both, first, second] {
        let _ = std::fs::remove_file(path);
    }
}
