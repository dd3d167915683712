//! Recomputing any grade from its record, and benchmark versions: new grades use the newest,
//! old grades still recompute with the one they recorded.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use gec::service::accounts::Role;
use serde_json::json;

use crate::helpers::TestApp;

use crate::issuance::approve;

#[tokio::test]
async fn recompute_matches_the_stored_trace_and_names_what_differs_when_not() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 3, "3670").await;
    let id = app.submit_yearly(&firm, &uscc).await;
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], true, "{result}");
    assert_eq!(result["stored_hash"], result["recomputed_hash"]);
    approve(&app, &regulator, id).await;
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], true, "after approval: {result}");

    // Someone alters the stored input behind the service's back.
    use sea_orm::ConnectionTrait;
    app.db
        .execute_unprepared(&format!(
            "UPDATE assessments SET input = REPLACE(input, '\"value_added_10k_cny\":\"52000.50\"', '\"value_added_10k_cny\":\"62000.50\"') WHERE id = {id}"
        ))
        .await
        .unwrap();
    let result = app
        .post(
            &format!("/api/v1/assessments/{id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(result["match"], false, "{result}");
    assert_ne!(result["stored_hash"], result["recomputed_hash"]);
    let differences = result["differences"].as_array().unwrap();
    assert!(
        differences.contains(&json!({"path": "energy.value_added_10k_cny", "stored": "52000.5", "recomputed": "62000.5"})),
        "{differences:?}"
    );
    assert!(differences.iter().any(|d| d["path"] == "energy.intensity"));
    app.post(
        &format!("/api/v1/assessments/{id}/recompute"),
        Some(&firm),
        json!({}),
    )
    .await
    .problem(403);
}

#[tokio::test]
async fn a_new_benchmark_version_is_used_for_new_grades_and_old_grades_still_recompute() {
    let app = TestApp::new().await;
    let regulator = app.token_for(Role::Regulator, "reg").await;
    let (uscc, firm) = app.firm_with_user(&regulator, 4, "3670").await;
    let old_id = app.submit_yearly(&firm, &uscc).await;
    approve(&app, &regulator, old_id).await;

    let csv = gec::grading::BenchmarkTable::default_table()
        .to_csv()
        .replace(
            "36,汽车制造业,Manufacture of automobiles,0.08",
            "36,汽车制造业,Manufacture of automobiles,0.05",
        );
    let publish = |version: &str, body: String| {
        Request::post(format!("/api/v1/benchmarks?version={version}"))
            .header(header::AUTHORIZATION, format!("Bearer {regulator}"))
            .header(header::CONTENT_TYPE, "text/csv")
            .body(Body::from(body))
            .unwrap()
    };
    let published = app.send(publish("GEC-B%202026.1", csv.clone())).await;
    assert_eq!(
        published.status,
        StatusCode::CREATED,
        "{}",
        published.text()
    );
    assert_eq!(published.json()["in_force"], true);
    app.send(publish("GEC-B%202026.1", csv)).await.problem(409);
    let bad = app.send(publish("GEC-B%202026.2", "division,name_zh,name_en,energy_baseline,waste_baseline,waste_leading\n36,x,y,0.08,0.9,0.5\n".into())).await;
    assert_eq!(bad.problem(422)["errors"][0]["line"], 2);

    let listed = app.get("/api/v1/benchmarks", None).await.json();
    assert_eq!(listed["in_force"], "GEC-B 2026.1");
    let read = app
        .get("/api/v1/benchmarks/GEC-B%202025.1", None)
        .await
        .json();
    assert_eq!(read["in_force"], false);
    assert_eq!(read["rows"].as_array().unwrap().len(), 41);

    let new_id = app.submit_yearly(&firm, &uscc).await;
    let issued = approve(&app, &regulator, new_id).await;
    let stored = app
        .get(&format!("/api/v1/assessments/{new_id}"), Some(&regulator))
        .await
        .json();
    assert_eq!(stored["benchmarks"], "GEC-B 2026.1");
    assert_eq!(stored["trace"]["energy"]["baseline"], "0.05");
    assert_eq!(issued["supersedes"].as_i64(), Some(0));
    let old = app
        .post(
            &format!("/api/v1/assessments/{old_id}/recompute"),
            Some(&regulator),
            json!({}),
        )
        .await
        .json();
    assert_eq!(old["match"], true);
    assert_eq!(old["benchmarks"], "GEC-B 2025.1");
}
