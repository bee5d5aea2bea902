//! One whole upload by keyboard alone: only key presses on whatever has the focus (Tab,
//! Shift+Tab, Enter, Escape, typing), never a click; the native file chooser is driven by its own
//! keys. Screenshots show where the focus is at each step.

use fantoccini::key::Key;
use oxdrop_tests::desktop::{Desktop, Launch};
use oxdrop_tests::{OxenServer, fixtures, oxenpy};

use crate::steps::{
    CURRENT, LONG, current, current_commit, press, repo_selected, tab_to, unlabeled_controls,
    wait_committed, wait_connected, wait_focus,
};

#[tokio::test]
async fn one_whole_upload_by_keyboard_alone() {
    let server = OxenServer::start();
    let repo = server.new_repo("keys").await;
    let tmp = tempfile::tempdir().unwrap();
    let file = fixtures::write_file(&tmp.path().join("typed.csv"), 4_000, 41);
    let app = Desktop::launch(Launch {
        sandbox: Some(server.url()),
        ..Launch::default()
    })
    .await;
    let enter = &*Key::Enter;
    let escape = &*Key::Escape;

    // Sign in to the sandbox: Tab to its button, Enter.
    app.find("[data-testid=use-sandbox]").await;
    tab_to(&app, "[data-testid=use-sandbox]", false).await;
    app.screenshot("keyboard-01-sandbox-focused").await;
    press(&app, enter).await;
    wait_connected(&app, "oxen-server").await;

    // "New repository…" opens with Enter and takes the typing; Escape closes it, back on its
    // button.
    tab_to(&app, "[data-testid=new-repo]", false).await;
    app.screenshot("keyboard-02-new-repository-focused").await;
    press(&app, enter).await;
    wait_focus(&app, "[data-testid=new-repo-name]").await;
    app.screenshot("keyboard-03-new-repository-form").await;
    press(&app, escape).await;
    wait_focus(&app, "[data-testid=new-repo]").await;
    let form_open = "return document.querySelector('[data-testid=new-repo-name]') !== null";
    assert_eq!(app.client.execute(form_open, vec![]).await.unwrap(), false);

    // Back up to the namespaces, then pick the repository by typing into the two searches.
    tab_to(&app, "[data-testid=namespaces-search]", true).await;
    press(&app, &repo.namespace).await;
    press(&app, enter).await;
    app.wait_text("[data-testid=namespaces] [aria-selected=true]", LONG, |t| {
        t == repo.namespace
    })
    .await;
    tab_to(&app, "[data-testid=repos-search]", false).await;
    press(&app, &repo.name).await;
    press(&app, enter).await;
    repo_selected(&app, &repo.name).await;
    app.screenshot("keyboard-04-repository-picked").await;

    // Add a file with the native chooser; then the focus waits on "Review upload".
    tab_to(&app, "[data-testid=add-files]", false).await;
    press(&app, enter).await;
    app.choose_in_dialog(
        "Add files to upload",
        &file,
        Some("keyboard-05-file-chooser"),
    )
    .await;
    app.wait_text("[data-testid=sources]", LONG, |t| t.contains("typed.csv"))
        .await;
    wait_focus(&app, "#review-upload").await;
    app.screenshot("keyboard-06-review-button-focused").await;

    // Enter reviews, and the review takes the focus; Escape goes back to choosing.
    press(&app, enter).await;
    app.wait_text("[data-testid=plan-summary]", LONG, |t| {
        t.contains("1 new file")
    })
    .await;
    wait_focus(&app, "[data-testid=review]").await;
    app.screenshot("keyboard-07-review-focused").await;
    press(&app, escape).await;
    wait_focus(&app, "#review-upload").await;
    let reviewing = "return document.querySelector('[data-testid=review]') !== null";
    assert_eq!(app.client.execute(reviewing, vec![]).await.unwrap(), false);

    // Review again; Enter goes on to the author (still empty), then Enter in the form uploads.
    press(&app, enter).await;
    wait_focus(&app, "[data-testid=review]").await;
    press(&app, enter).await;
    wait_focus(&app, "[data-testid=author-name]").await;
    press(&app, "Kay Board").await;
    press(&app, &Key::Tab).await;
    wait_focus(&app, "[data-testid=author-email]").await;
    press(&app, "kay@example.com").await;
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    app.screenshot("keyboard-08-author-typed").await;
    press(&app, enter).await;
    // The upload is at once an entry of the Uploads panel, and the focus goes to it.
    wait_focus(&app, &format!("{CURRENT}, {CURRENT} *")).await;
    wait_committed(&app, "", LONG).await;
    let unlabeled = unlabeled_controls(&app).await;
    assert!(unlabeled.is_empty(), "{unlabeled:?}");
    // The end is said politely, and the focus waits on the next step.
    let said = "const e = document.querySelector(arguments[0]); \
                return [e.getAttribute('aria-live'), e.textContent]";
    let said = app
        .client
        .execute(said, vec![current("entry-announce").into()])
        .await
        .unwrap();
    assert_eq!(said, serde_json::json!(["polite", "Uploaded"]));
    wait_focus(&app, &current("new-upload")).await;
    app.screenshot("keyboard-09-uploaded").await;

    let report = oxenpy::assert_uploaded(
        &server.url(),
        &format!("{}/{}", repo.namespace, repo.name),
        "main",
        &[("typed.csv".into(), file)],
    );
    assert_eq!(report.log[0].author, "Kay Board");
    assert!(
        current_commit(&app)
            .await
            .starts_with(&report.log[0].id[..10])
    );
    // Enter on "Upload more": back to choosing, on "Add files…", the sent file off the list.
    press(&app, enter).await;
    wait_focus(&app, "[data-testid=add-files]").await;
    let listed = "return document.querySelector('[data-testid=sources]') !== null";
    assert_eq!(app.client.execute(listed, vec![]).await.unwrap(), false);
    app.screenshot("keyboard-10-upload-more").await;
    app.quit().await;
}
