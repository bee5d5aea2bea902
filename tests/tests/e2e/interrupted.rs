//! Uploads interrupted outside the window: one the command line left half done (killed part way)
//! is an entry of the app's Uploads panel, saying how much of it is on the server, and resumes
//! there to one commit.

use oxdrop_tests::cli::CliUser;
use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::nginx::AuthProxy;
use oxdrop_tests::upload::pairs;
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

use crate::steps::{KEY, LONG};

const ENTRY: &str = "[data-testid=upload-entry]";

#[tokio::test]
async fn an_upload_the_command_line_left_interrupted_resumes_in_the_uploads_panel() {
    let server = OxenServer::start();
    let proxy = AuthProxy::start(server.port(), KEY);
    let url = proxy.url();
    // The command line and the app share one user's settings, data folder and keychain.
    let cli = CliUser::new().with_env("OXDROP_AUTHOR", "Script Runner <runner@example.com>");
    assert_eq!(cli.login(&url, "ada", KEY).code, 0);
    let created = cli.run(&["--server", &url, "create-repo", "ada/halfway"]);
    assert_eq!(created.code, 0, "{created:?}");
    let root = cli.home.path().join("drop");
    let rel = fixtures::small_tree(&root, 40, 100, 2_000, 71);
    let dir = root.to_str().unwrap();
    let mut child = cli.spawn_slow_upload(&[
        "--server",
        &url,
        "upload",
        dir,
        "--repo",
        "ada/halfway",
        "-m",
        "from the command line",
    ]);
    // Killed (no chance to clean up) once some files are on the server.
    let journaled = cli.wait_for_staged(&mut child, 3);
    child.kill().unwrap();
    child.wait().unwrap();
    // What it left on the server, as its journal says once it is dead.
    let staged = cli.journaled().unwrap().staged.len();
    assert!(staged >= journaled.staged.len() && staged < 40, "{staged}");

    let app = Desktop::launch(Launch {
        home: Some(cli.home.path().to_path_buf()),
        keychain_service: Some(cli.keychain_service.clone()),
        ..Launch::default()
    })
    .await;
    let entry = format!("{ENTRY}[data-id='{}']", journaled.id);
    let shown = app
        .wait_text(&entry, LONG, |t| {
            t.contains("Interrupted") && t.contains("ada/halfway")
        })
        .await;
    assert!(shown.contains("drop"), "{shown}");
    assert!(
        shown.contains("stopped part way"),
        "why it waits there: {shown}"
    );
    // What a resume will not send again.
    let sent = app.text(&format!("{entry} [data-testid=entry-sent]")).await;
    assert!(
        sent.starts_with(&format!("Already on the server: {staged} of 40 files (")),
        "{sent}"
    );
    app.screenshot("20-interrupted-by-the-command-line").await;
    app.click(&format!("{entry} [data-testid=entry-resume]"))
        .await;
    let done = app
        .wait_text(&format!("{entry} [data-testid=entry-outcome]"), LONG, |t| {
            t.contains("committed as")
        })
        .await;
    let report = oxenpy::assert_uploaded(
        &server.url(),
        "ada/halfway",
        "main",
        &pairs("drop", &root, &rel),
    );
    let ours: Vec<_> = report
        .log
        .iter()
        .filter(|c| c.message == "from the command line")
        .collect();
    assert_eq!(ours.len(), 1, "exactly one commit: {:?}", report.log);
    let commit = app
        .find(&format!("{entry} [data-testid=entry-commit]"))
        .await
        .attr("data-commit")
        .await
        .unwrap();
    assert_eq!(commit.as_deref(), Some(ours[0].id.as_str()), "{done}");
    // Nothing is left to resume: the journal is gone with the commit.
    let listed = cli.run(&["uploads"]);
    assert!(
        listed.stdout.contains("No interrupted uploads"),
        "{listed:?}"
    );
    app.quit().await;
}
