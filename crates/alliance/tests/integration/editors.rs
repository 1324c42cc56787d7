//! The web does what the command line does (issue 16), as partnership staff would use it: the
//! serious violence definition edited with a preview of its counts and kept as versions with
//! their history; the directory of help edited (added, changed, withdrawn) with what the
//! public find following; priorities and commitments of any strategy changed and deleted, a
//! deletion refused (409) while an action refers to one. Every form with an error comes back
//! as typed with a GOV.UK error summary and changes nothing; every change is audited.

use crate::common;

use std::path::Path;

use alliance_core::access::Role;
use alliance_core::analytics::sna::definition::Definition;
use alliance_core::governance::ActionStatus;
use alliance_db::governance::{ActionFields, StrategyFields};
use axum::http::StatusCode;
use common::app::{Caller, Reply, TestApp};

fn location(reply: &Reply) -> String {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", &reply.body[..reply.body.len().min(4000)]);
    reply.header("location").expect("a redirect").to_string()
}

async fn audit_details(app: &TestApp, action: &str) -> Vec<String> {
    common::audit_rows(&app.db, action).await.into_iter().map(|e| e.detail).collect()
}

/// Two months of street crimes: 2025-06 (counted: the latest twelve months) and 2024-06
/// (twelve months before the latest, so outside them).
fn write_streets(dir: &Path) {
    let header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n";
    let mut n = 0u64;
    for (month, rows) in [
        (
            "2025-06",
            &[
                ("Violence and sexual offences", 10),
                ("Robbery", 3),
                ("Possession of weapons", 2),
                ("Drugs", 4),
                ("Burglary", 5),
            ][..],
        ),
        ("2024-06", &[("Violence and sexual offences", 100)][..]),
    ] {
        let mut text = String::from(header);
        for (crime_type, count) in rows {
            for _ in 0..*count {
                n += 1;
                text.push_str(&format!(
                    "{n:064x},{month},Wiltshire Police,Wiltshire Police,-1.78,51.56,On or near Station Road,E01099999,Test 001A,{crime_type},Under investigation,\n"
                ));
            }
        }
        std::fs::write(dir.join(format!("{month}-wiltshire-street.csv")), text).expect("write");
    }
}

/// The editor's form for `d` as a browser would post it, with `changes` applied after.
fn definition_form(d: &Definition, action: &str, changes: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = vec![
        ("base_version".into(), d.version.to_string()),
        ("count".into(), d.mappings.len().to_string()),
        ("name".into(), d.name.clone()),
        ("notes".into(), d.notes.clone()),
        ("action".into(), action.into()),
    ];
    for (i, m) in d.mappings.iter().enumerate() {
        fields.push((format!("m{i}_source"), m.source.code().into()));
        fields.push((format!("m{i}_category"), m.category.clone()));
        fields.push((format!("m{i}_group"), m.group.code().into()));
        fields.push((format!("m{i}_fit"), m.fit.code().into()));
        fields.push((format!("m{i}_note"), m.note.clone()));
        if m.in_headline {
            fields.push((format!("m{i}_headline"), "yes".into()));
        }
    }
    for (k, v) in changes {
        fields.retain(|(name, _)| name != k);
        if !v.is_empty() {
            fields.push((k.to_string(), v.to_string()));
        }
    }
    fields
}

async fn post(app: &TestApp, path: &str, who: &Caller, fields: &[(String, String)]) -> Reply {
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(path, who, &pairs).await
}

async fn definition_editor(app: TestApp) {
    let dir = tempfile::tempdir().expect("tempdir");
    write_streets(dir.path());
    common::import_all(&app.db, &common::police_files(dir.path())).await;
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "Wiltshire and Swindon VRP").await;
    let board = app.signed_in("chair@vrp.example", Role::BoardMember, "Wiltshire and Swindon VRP").await;
    let current = app.db.sv_definition_current().await.expect("definition");
    assert_eq!(current.version, 1);
    // Read back as stored: the default definition, with its version and the time it was stored.
    let default = alliance_core::analytics::sna::definition::default_definition();
    assert_eq!(current, Definition { version: 1, created: current.created.clone(), ..default });
    assert!(current.created.starts_with("20"), "{}", current.created);
    let drugs = current.mappings.iter().position(|m| m.category == "Drugs").expect("drugs is mapped");

    // The read-only page offers the editor to staff only; the editor is staff's.
    assert!(app.get("/sna/definition", &analyst).await.body.contains("href=\"/sna/definition/edit\""));
    assert!(!app.get("/sna/definition", &board).await.body.contains("href=\"/sna/definition/edit\""));
    assert_eq!(app.get("/sna/definition/edit", &board).await.status, StatusCode::FORBIDDEN);
    let refused = post(&app, "/sna/definition/edit", &board, &definition_form(&current, "save", &[])).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let editor = app.get("/sna/definition/edit", &analyst).await;
    assert_eq!(editor.status, StatusCode::OK);
    assert!(editor.body.contains(&format!("name=\"m{drugs}_headline\"")), "{}", editor.body);

    // Preview: drugs into the headline. The latest twelve months are 2024-07 to 2025-06: 15
    // crimes count now (violence 10, robbery 3, weapons 2), 19 with drugs; nothing is stored.
    let headline = format!("m{drugs}_headline");
    let preview = post(
        &app,
        "/sna/definition/edit",
        &analyst,
        &definition_form(&current, "preview", &[(&headline, "yes"), ("name", "Police proxy with drug offences")]),
    )
    .await;
    assert_eq!(preview.status, StatusCode::OK, "{}", preview.body);
    assert!(preview.body.contains("2024-07 to 2025-06"), "{}", preview.body);
    assert!(preview.body.contains("<strong>15</strong> with version 1"), "{}", preview.body);
    assert!(preview.body.contains("<strong>19</strong> with your changes"), "{}", preview.body);
    assert!(preview.body.contains("value=\"Police proxy with drug offences\""), "typed values kept");
    assert_eq!(app.db.sv_definition_versions().await.unwrap().len(), 1, "a preview stores nothing");

    // Save without a reason: the error summary names the field, the form keeps what was typed.
    let changed = [(headline.as_str(), "yes"), ("name", "Police proxy with drug offences")];
    let no_reason = post(&app, "/sna/definition/edit", &analyst, &definition_form(&current, "save", &changed)).await;
    no_reason.assert_refused(&["href=\"#reason\""]);
    assert!(no_reason.body.contains("value=\"Police proxy with drug offences\""));
    // A category the source does not have, added: refused on its field, as typed.
    let knife = [
        ("new_source", "police_crime_type"),
        ("new_category", "Knife crime"),
        ("new_group", "knife_and_sharp_object"),
        ("new_fit", "exact"),
        ("reason", "Knife crime"),
    ];
    let bad = post(&app, "/sna/definition/edit", &analyst, &definition_form(&current, "save", &knife)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("href=\"#new_category\"") && bad.body.contains("not a data.police.uk crime type"));
    assert!(bad.body.contains("value=\"Knife crime\""), "typed values kept");
    // Nothing changed: refused.
    let same =
        post(&app, "/sna/definition/edit", &analyst, &definition_form(&current, "save", &[("reason", "No change")]))
            .await;
    same.assert_refused(&["Nothing has changed"]);
    // More rows than a definition may hold: refused, not cut short.
    let huge = post(
        &app,
        "/sna/definition/edit",
        &analyst,
        &definition_form(&current, "save", &[("count", "301"), ("reason", "x")]),
    )
    .await;
    huge.assert_refused(&["at most 300 mappings"]);
    assert_eq!(app.db.sv_definition_versions().await.unwrap().len(), 1, "refused forms store nothing");

    // Saved as version 2, with its audit row saying what changed and why.
    let mut save = changed.to_vec();
    save.push(("reason", "Board asked to see drug supply in the headline"));
    let saved = post(&app, "/sna/definition/edit", &analyst, &definition_form(&current, "save", &save)).await;
    assert_eq!(location(&saved), "/sna/definition/history?saved=2");
    let now = app.db.sv_definition_current().await.unwrap();
    assert_eq!((now.version, now.name.as_str()), (2, "Police proxy with drug offences"));
    assert!(now.mappings[drugs].in_headline);
    assert_eq!(now.gaps, current.gaps, "what each source cannot show is kept");
    let audit = audit_details(&app, "definition-change").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(audit[0].contains("Board asked to see drug supply") && audit[0].contains("now in the headline"));
    let history = app.get("/sna/definition/history?saved=2", &board).await;
    assert_eq!(history.status, StatusCode::OK);
    assert!(history.body.contains("Version 2 of the definition is saved"));
    assert!(history.body.contains("Version 1: ") && history.body.contains("now in the headline"), "{}", history.body);

    // A form opened on version 1 and saved after version 2 is refused: nothing is overwritten.
    let stale = post(&app, "/sna/definition/edit", &analyst, &definition_form(&current, "save", &knife[4..])).await;
    stale.assert_refused(&["Version 2 of the definition was stored after you opened version 1"]);
    assert_eq!(app.db.sv_definition_current().await.unwrap().version, 2);
}
on_each_app!(definition_editor);

fn service(name: &str, postcode: &str) -> Vec<(String, String)> {
    [
        ("name", name),
        ("description", "One-to-one support for young people at risk of exploitation"),
        ("kind", "support"),
        ("needs", "exploitation"),
        ("needs", "knife-crime"),
        ("organisation_name", "Safer Streets Trust"),
        ("organisation_description", ""),
        ("url", "https://www.example.org.uk/help"),
        ("email", "help@example.org.uk"),
        ("phone", "01782 123456"),
        ("min_age", "11"),
        ("max_age", "25"),
        ("areas", "Stoke-on-Trent"),
        ("postcode", postcode),
        ("opening_times", "Monday to Friday 9am to 5pm"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn with(mut fields: Vec<(String, String)>, name: &str, value: &str) -> Vec<(String, String)> {
    for f in &mut fields {
        if f.0 == name {
            f.1 = value.to_string();
        }
    }
    fields
}

async fn directory_editor(app: TestApp) {
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "Stoke VRP").await;
    let partner = app.signed_in("officer@police.example", Role::PartnerUser, "Staffordshire Police").await;
    let public = common::app::Caller::default();
    let sample = common::workspace_root().join("crates/alliance/tests/data/postcodes-onspd-sample.csv");
    let done = alliance_app::postcodes::import(
        &app.db,
        &common::test_actor(),
        &alliance_ingest::SourceFile::from_path(&sample),
        &alliance_app::postcodes::Keep::All,
    )
    .await
    .expect("no fault")
    .expect("imported");
    assert_eq!(done.kept, 5);

    assert_eq!(app.get("/directory", &partner).await.status, StatusCode::FORBIDDEN);
    let list = app.get("/directory", &analyst).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("The directory is empty"));

    // Refused: a website that is no http(s) address, then a postcode Alliance does not hold.
    // Each names its field, keeps what was typed, and stores nothing.
    let bad = post(
        &app,
        "/directory",
        &analyst,
        &with(service("Hanley Youth Mentors", "ST1 1AA"), "url", "javascript:alert(1)"),
    )
    .await;
    bad.assert_refused(&["href=\"#url\""]);
    assert!(bad.body.contains("value=\"Hanley Youth Mentors\"") && bad.body.contains("value=\"javascript:alert(1)\""));
    assert!(bad
        .body
        .contains("id=\"needs-knife-crime\" name=\"needs\" type=\"checkbox\" value=\"knife-crime\" checked"));
    let unknown = post(&app, "/directory", &analyst, &service("Hanley Youth Mentors", "ZZ9 9ZZ")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("href=\"#postcode\"") && unknown.body.contains("ZZ9 9ZZ is not among the postcodes"));
    let long = "x".repeat(201);
    let too_long = post(&app, "/directory", &analyst, &with(service(&long, ""), "name", &long)).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(too_long.body.contains("Use 200 characters or fewer"));
    assert!(app.db.directory_entries().await.unwrap().is_empty());

    // Added: one in Hanley, one in Swindon; the public search by postcode puts the nearer first.
    assert_eq!(
        location(&post(&app, "/directory", &analyst, &service("Swindon Mentors", "sn11aa")).await),
        "/directory?added=1"
    );
    assert_eq!(
        location(&post(&app, "/directory", &analyst, &service("Hanley Youth Mentors", "ST1 1AA")).await),
        "/directory?added=1"
    );
    let entries = app.db.directory_entries().await.unwrap();
    assert_eq!(entries.len(), 2);
    let swindon = entries.iter().find(|e| e.record.name == "Swindon Mentors").unwrap();
    assert_eq!(swindon.postcode, "SN1 1AA", "postcodes are stored in their normal form");
    assert_eq!(audit_details(&app, "directory-change").await.len(), 2);
    let near_stoke = app.get("/find-help?postcode=st4+2aa", &public).await;
    assert_eq!(near_stoke.status, StatusCode::OK);
    let (hanley, far) =
        (near_stoke.body.find("Hanley Youth Mentors").unwrap(), near_stoke.body.find("Swindon Mentors").unwrap());
    assert!(hanley < far, "the nearer service first");
    assert!(near_stoke.body.contains("km away"));
    let near_swindon = app.get("/find-help?postcode=SN1+1AA", &public).await;
    assert!(
        near_swindon.body.find("Swindon Mentors").unwrap() < near_swindon.body.find("Hanley Youth Mentors").unwrap()
    );
    // The API lists the same services in the same order, through the same search.
    let api = app.get("/api/v1/services?postcode=st4+2aa", &public).await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let names: Vec<String> = api.json()["content"]
        .as_array()
        .expect("content")
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Hanley Youth Mentors", "Swindon Mentors"], "nearest first, as /find-help");
    assert!(api.json()["content"][0]["distance_km"].as_f64().is_some_and(|km| km < 10.0), "{}", api.body);
    let api = app.get("/api/v1/services?postcode=SN1+1AA", &public).await;
    assert_eq!(api.json()["content"][0]["name"], "Swindon Mentors");
    let api = app.get("/api/v1/services", &public).await;
    assert_eq!(api.json()["content"][0]["name"], "Hanley Youth Mentors", "by name without a postcode");
    assert!(api.json()["content"][0].get("distance_km").is_none());
    let api_typo = app.get("/api/v1/services?postcode=ST1", &public).await;
    api_typo.assert_refused(&["Enter a real postcode"]);
    let typo = app.get("/find-help?postcode=ST1", &public).await;
    assert_eq!(typo.status, StatusCode::OK);
    assert!(
        typo.body.contains("Enter a real postcode") && typo.body.contains("Swindon Mentors"),
        "the search still runs"
    );

    // Changed: the form opens with what is stored; the audit names each change.
    let id = swindon.record.id.clone();
    let form = app.get(&format!("/directory/{id}"), &analyst).await;
    assert!(form.body.contains("value=\"Swindon Mentors\"") && form.body.contains("value=\"SN1 1AA\""));
    let renamed = post(&app, &format!("/directory/{id}"), &analyst, &service("Swindon Youth Mentors", "SN1 1AA")).await;
    assert_eq!(location(&renamed), "/directory?saved=1");
    let audit = audit_details(&app, "directory-change").await;
    assert!(
        audit.iter().any(|d| d.contains("name changed from \"Swindon Mentors\" to \"Swindon Youth Mentors\"")),
        "{audit:?}"
    );

    // Withdrawn: a reason is needed; then the public no longer find it, staff still see it.
    let no_reason = post(&app, &format!("/directory/{id}/withdraw"), &analyst, &[]).await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("href=\"#reason\""));
    let withdrawn =
        post(&app, &format!("/directory/{id}/withdraw"), &analyst, &[("reason".into(), "The service closed".into())])
            .await;
    assert_eq!(location(&withdrawn), "/directory?withdrawn=1");
    assert!(!app.get("/find-help", &public).await.body.contains("Swindon Youth Mentors"));
    assert!(!app.get("/api/v1/services", &public).await.body.contains("Swindon Youth Mentors"));
    let list = app.get("/directory", &analyst).await.body;
    assert!(list.contains("Swindon Youth Mentors") && list.contains("Withdrawn"));
    assert_eq!(app.get(&format!("/directory/{id}"), &analyst).await.status, StatusCode::NOT_FOUND);
    // A form opened before the withdrawal and sent after it: refused on the form, what was
    // typed kept, the service unchanged.
    let late = post(&app, &format!("/directory/{id}"), &analyst, &service("Late Change Mentors", "SN1 1AA")).await;
    assert_eq!(late.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", late.body);
    assert!(late.body.contains("was withdrawn on") && late.body.contains("Late Change Mentors"), "{}", late.body);
    assert_eq!(app.db.directory_entry(&id).await.unwrap().unwrap().record.name, "Swindon Youth Mentors");
    assert!(audit_details(&app, "directory-change")
        .await
        .iter()
        .any(|d| d.contains("withdrawn") && d.contains("The service closed")));
    // Reinstated: a button on the list (CSRF-protected), audited; the public find it again.
    assert!(list.contains(&format!("action=\"/directory/{id}/reinstate\"")), "a Reinstate button");
    let forged = app
        .post_form(&format!("/directory/{id}/reinstate"), &Caller { csrf: "wrong".into(), ..analyst.clone() }, &[])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(
        post(&app, &format!("/directory/{id}/reinstate"), &partner, &[]).await.status,
        StatusCode::FORBIDDEN,
        "partner users reinstate nothing"
    );
    assert!(app.db.directory_entry(&id).await.unwrap().unwrap().withdrawn_at.is_some(), "still withdrawn");
    let reinstated = post(&app, &format!("/directory/{id}/reinstate"), &analyst, &[]).await;
    assert_eq!(location(&reinstated), "/directory?reinstated=1");
    assert!(app.get("/find-help", &public).await.body.contains("Swindon Youth Mentors"));
    assert_eq!(app.get(&format!("/directory/{id}"), &analyst).await.status, StatusCode::OK, "editable again");
    assert!(audit_details(&app, "directory-change")
        .await
        .iter()
        .any(|d| d.contains("service reinstated: Swindon Youth Mentors")));
    let again = post(&app, &format!("/directory/{id}/reinstate"), &analyst, &[]).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "not withdrawn: nothing to reinstate");
    assert_eq!(post(&app, "/directory/no-such-service/reinstate", &analyst, &[]).await.status, StatusCode::NOT_FOUND);
    let changes = audit_details(&app, "directory-change").await;
    assert_eq!(changes.iter().filter(|d| d.contains("reinstated")).count(), 1, "one reinstatement audited");
    // Partner users change nothing.
    let denied = post(&app, "/directory", &partner, &service("Mine", "")).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN);
}
on_each_app!(directory_editor);

async fn strategy_items(app: TestApp) {
    let analyst = app.signed_in("analyst@vrp.example", Role::Analyst, "Wiltshire and Swindon VRP").await;
    let board = app.signed_in("chair@vrp.example", Role::BoardMember, "Wiltshire and Swindon VRP").await;
    let actor = common::test_actor();
    let fields = StrategyFields {
        name: "Serious Violence Strategy 2026-2030".into(),
        period_start: "2026".into(),
        period_end: "2030".into(),
        aim: "Fewer people hurt".into(),
        source: String::new(),
    };
    let id = app.db.create_strategy(&fields, None, &actor).await.unwrap();
    let p1 = app.db.add_priority(id, "Prevention", "", None, &actor).await.unwrap();
    let p2 = app.db.add_priority(id, "Enforcement", "", None, &actor).await.unwrap();
    let c1 = app.db.add_commitment(p1, "Fund detached youth work", None, &actor).await.unwrap();
    let c2 = app.db.add_commitment(p1, "Train school staff", None, &actor).await.unwrap();
    let c3 = app.db.add_commitment(p2, "Target knife crime hotspots", None, &actor).await.unwrap();
    let org = app.db.organisation_by_name("Wiltshire and Swindon VRP").await.unwrap().unwrap().id;
    let action = ActionFields {
        commitment_id: c1,
        title: "Detached youth work in Swindon town centre",
        description: "",
        owner_org_id: org,
        lead_person: "Youth service lead",
        start_date: None,
        due_date: None,
        status: ActionStatus::OnTrack,
        intervention_id: None,
    };
    app.db.create_action(&action, &actor, None).await.unwrap();

    // The strategy's page offers staff to change and delete each item.
    let page = app.get(&format!("/strategies/{id}"), &analyst).await.body;
    assert!(page.contains(&format!("href=\"/strategies/{id}/priorities/{p1}/delete\"")), "{page}");
    assert!(page.contains(&format!("href=\"/strategies/{id}/commitments/{c2}\"")));
    assert!(!app.get(&format!("/strategies/{id}"), &board).await.body.contains("/delete\""));

    // A priority renamed: an empty name is refused as typed; a name is saved and audited.
    let url = format!("/strategies/{id}/priorities/{p2}");
    let form = |name: &str, description: &str| {
        vec![("name".to_string(), name.to_string()), ("description".to_string(), description.to_string())]
    };
    let empty = post(&app, &url, &analyst, &form(" ", "Police and partners together")).await;
    assert_eq!(empty.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(empty.body.contains("href=\"#name\"") && empty.body.contains("Police and partners together"));
    assert_eq!(
        location(&post(&app, &url, &analyst, &form("Enforcement and disruption", "")).await),
        format!("/strategies/{id}#priority-{p2}")
    );
    assert_eq!(app.db.priorities(id).await.unwrap()[1].name, "Enforcement and disruption");
    let words = post(
        &app,
        &format!("/strategies/{id}/commitments/{c3}"),
        &analyst,
        &[("text".into(), "Disrupt knife crime hotspots".into())],
    )
    .await;
    location(&words);
    assert!(app.db.commitments(id).await.unwrap().iter().any(|c| c.text == "Disrupt knife crime hotspots"));

    // Deleting refused while an action refers to it: a 409 naming the action; nothing deleted.
    let refused = post(&app, &format!("/strategies/{id}/commitments/{c1}/delete"), &analyst, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("Detached youth work in Swindon town centre"), "{}", refused.body);
    let refused = post(&app, &format!("/strategies/{id}/priorities/{p1}/delete"), &analyst, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(app.db.commitments(id).await.unwrap().len(), 3);

    // Board members are refused the confirmation page and the deletion.
    assert_eq!(
        app.get(&format!("/strategies/{id}/commitments/{c2}/delete"), &board).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(&app, &format!("/strategies/{id}/commitments/{c2}/delete"), &board, &[]).await.status,
        StatusCode::FORBIDDEN
    );
    // An item of another strategy's address is not found.
    assert_eq!(
        app.get(&format!("/strategies/{}/commitments/{c2}/delete", id + 1), &analyst).await.status,
        StatusCode::NOT_FOUND
    );

    // Deleted after the confirmation page: a commitment; a priority with its commitments.
    let confirm = app.get(&format!("/strategies/{id}/priorities/{p2}/delete"), &analyst).await;
    assert!(confirm.body.contains("Disrupt knife crime hotspots"), "the commitments deleted with it are listed");
    location(&post(&app, &format!("/strategies/{id}/commitments/{c2}/delete"), &analyst, &[]).await);
    location(&post(&app, &format!("/strategies/{id}/priorities/{p2}/delete"), &analyst, &[]).await);
    let left: Vec<i64> = app.db.commitments(id).await.unwrap().iter().map(|c| c.id).collect();
    assert_eq!(left, [c1]);
    assert_eq!(app.db.priorities(id).await.unwrap().len(), 1);
    let audit = audit_details(&app, "governance-change").await;
    assert!(audit.iter().any(|d| d.contains("commitment deleted") && d.contains("Train school staff")), "{audit:?}");
    assert!(audit.iter().any(|d| d.contains("priority deleted") && d.contains("with 1 commitment")), "{audit:?}");
}
on_each_app!(strategy_items);
