//! Settings, accounts and the settings lock.

use super::*;

fn account(id: &str, server: &str) -> Account {
    Account {
        id: id.into(),
        server: ServerUrl::parse(server).unwrap(),
        user: String::new(),
        has_key: true,
        insecure_ok: false,
    }
}

#[test]
fn settings_round_trip_and_damaged_files_are_set_aside() {
    let dir = tempfile::tempdir().unwrap();
    let store = SettingsStore::new(dir.path());
    assert_eq!(store.load(), Settings::default());
    let mut s = Settings::default();
    s.accounts.push(account("a@https://x.org", "https://x.org"));
    s.active = Some("a@https://x.org".into());
    let (saved, ()) = store
        .update(|stored| {
            *stored = s.clone();
            Ok(())
        })
        .unwrap();
    assert_eq!(saved, s);
    assert_eq!(store.load(), s);
    std::fs::write(store.path(), b"{not json").unwrap();
    assert_eq!(store.load(), Settings::default());
    let aside = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("damaged"))
        .count();
    assert_eq!(aside, 1, "the damaged file is kept for the user");
}

#[test]
fn unwritable_settings_are_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, b"x").unwrap();
    let store = SettingsStore::new(&blocker.join("oxdrop"));
    let err = store.update(|_| Ok(())).unwrap_err();
    assert_eq!(err.code, ErrorCode::ConfigUnwritable);
    assert!(err.message.contains("cannot save its settings"));
}

/// Adds 50 accounts named `<prefix>-<n>`, one change at a time.
fn add_fifty(store: &SettingsStore, prefix: &str) {
    for n in 0..50 {
        store
            .update(|s| {
                s.accounts
                    .push(account(&format!("{prefix}-{n}"), "https://x.org"));
                Ok(())
            })
            .unwrap();
    }
}

fn all_there(store: &SettingsStore, prefixes: &[&str]) {
    let ids: std::collections::BTreeSet<String> =
        store.load().accounts.into_iter().map(|a| a.id).collect();
    for prefix in prefixes {
        for n in 0..50 {
            let id = format!("{prefix}-{n}");
            assert!(ids.contains(&id), "{id} lost; {} kept", ids.len());
        }
    }
}

#[test]
fn writers_in_two_threads_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::thread::scope(|s| {
        for prefix in ["left", "right"] {
            let store = SettingsStore::new(dir.path());
            s.spawn(move || add_fifty(&store, prefix));
        }
    });
    all_there(&SettingsStore::new(dir.path()), &["left", "right"]);
}

/// Two processes (this test binary run again as writers) change the settings at once.
#[test]
fn writers_in_two_processes_lose_nothing() {
    const ROLE: &str = "OXDROP_TEST_SETTINGS_WRITER";
    if let Ok(role) = std::env::var(ROLE) {
        let (dir, prefix) = role.split_once('|').unwrap();
        add_fifty(&SettingsStore::new(Path::new(dir)), prefix);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let writers: Vec<_> = ["one", "two"]
        .into_iter()
        .map(|prefix| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args([
                    "--exact",
                    "accounts::tests::writers_in_two_processes_lose_nothing",
                    "--nocapture",
                ])
                .env(ROLE, format!("{}|{prefix}", dir.path().display()))
                .spawn()
                .unwrap()
        })
        .collect();
    for mut w in writers {
        assert!(w.wait().unwrap().success());
    }
    all_there(&SettingsStore::new(dir.path()), &["one", "two"]);
}

#[test]
fn account_for_prefers_the_active_one() {
    let mut s = Settings::default();
    s.accounts.push(account("a@https://x.org", "https://x.org"));
    s.accounts.push(account("b@https://x.org", "https://x.org"));
    s.active = Some("b@https://x.org".into());
    let server = ServerUrl::parse("https://x.org").unwrap();
    assert_eq!(s.account_for(&server).unwrap().id, "b@https://x.org");
    s.active = None;
    assert_eq!(s.account_for(&server).unwrap().id, "a@https://x.org");
}

#[test]
fn recent_destinations_are_unique_and_bounded() {
    let mut s = Settings::default();
    let d = |n: usize| Destination {
        account_id: "a".into(),
        repo: RepoRef::new("ns", &format!("r{n}")).unwrap(),
        branch: "main".into(),
        dest: RemotePath::root(),
    };
    for n in 0..12 {
        s.remember_destination(d(n));
    }
    s.remember_destination(d(5));
    assert_eq!(s.recent.len(), RECENT_MAX);
    assert_eq!(s.recent[0], d(5));
    assert_eq!(s.recent.iter().filter(|r| **r == d(5)).count(), 1);
}

fn place(n: usize) -> Destination {
    Destination {
        account_id: "a".into(),
        repo: RepoRef::new("ns", &format!("r{n}")).unwrap(),
        branch: "main".into(),
        dest: RemotePath::root(),
    }
}

#[test]
fn pinned_places_come_first_and_are_never_pushed_out() {
    let mut s = Settings::default();
    s.remember_destination(place(1));
    s.remember_destination(place(2));
    s.pin(place(1)).unwrap();
    // A pinned place is listed once, among the pinned.
    assert_eq!(s.pinned, [place(1)]);
    assert_eq!(s.recent, [place(2)]);
    assert_eq!(s.places(), [place(1), place(2)]);
    // Twelve more destinations: the pinned one stays, the recent ones are the last eight.
    for n in 10..22 {
        s.remember_destination(place(n));
    }
    s.remember_destination(place(1));
    assert_eq!(s.pinned, [place(1)]);
    assert_eq!(s.recent.len(), RECENT_MAX);
    assert!(!s.recent.contains(&place(1)), "{:?}", s.recent);
    assert_eq!(s.places()[0], place(1));
    assert_eq!(s.places()[1], place(21));
    // Pinning again changes nothing; unpinning puts it back at the top of the recent ones.
    s.pin(place(1)).unwrap();
    assert_eq!(s.pinned, [place(1)]);
    s.unpin(&place(1));
    assert!(s.pinned.is_empty());
    assert_eq!(s.recent[0], place(1));
    assert_eq!(s.recent.len(), RECENT_MAX);
}

#[test]
fn pinned_places_are_bounded_and_kept_by_the_locked_update() {
    let dir = tempfile::tempdir().unwrap();
    let store = SettingsStore::new(dir.path());
    for n in 0..PINNED_MAX {
        store.update(|s| s.pin(place(n))).unwrap();
    }
    let err = store.update(|s| s.pin(place(99))).unwrap_err();
    assert!(err.message.contains("unpin one first"), "{err:?}");
    let kept = store.load();
    assert_eq!(kept.pinned.len(), PINNED_MAX);
    assert_eq!(kept.pinned[0], place(0));
    // Settings written before pinning existed still load.
    std::fs::write(
        dir.path().join("settings.json"),
        r#"{"format":1,"accounts":[],"active":null,"author":null,"recent":[]}"#,
    )
    .unwrap();
    assert!(store.load().pinned.is_empty());
}

#[test]
fn ids_name_user_and_server() {
    let server = ServerUrl::parse("hub.oxen.ai").unwrap();
    assert_eq!(account_id(&server, " ada "), "ada@https://hub.oxen.ai");
    assert_eq!(account_id(&server, ""), "https://hub.oxen.ai");
}

#[test]
fn secret_text_is_redacted() {
    let t: SignIn = serde_json::from_str(r#"{"server":"x","key":"sk-1234567890"}"#).unwrap();
    assert!(!format!("{t:?}").contains("sk-1234567890"));
}
