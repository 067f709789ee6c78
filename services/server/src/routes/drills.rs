//! `/api/v1/drills`: the drill director's endpoints. A drill is started from a
//! shipped or a sent script, on the seed or a copy of the live network; its
//! clock is paused, resumed, sped up, stepped and moved on; injects are fired;
//! and its report is read. Trainees play on `/api/v1/drills/{drill}/…`, the
//! live endpoints on the drill's own network (`startup::endpoints`).

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::drills::{
    ClockAction, Drills, Range, SpeedArg, StartFrom, Starting, shipped, unknown_drill,
};

/// Stands in for a replay's script until its range is known.
const REPLAY_PLACEHOLDER: &str = r#"{"id": "replay", "title": {"zh": "回放", "en": "Replay"},
    "description": "A replay of the live log.", "seed": "chongqing", "start": "2026-01-01T00:00:00Z", "steps": []}"#;
use crate::problem::Problem;
use crate::routes::commands::{json_body, read_body};

/// The director's endpoints, inside the `/api/v1/drills` scope.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("", web::post().to(start))
        .route("", web::get().to(list))
        .route("/{drill}", web::get().to(status))
        .route("/{drill}", web::delete().to(delete))
        .route("/{drill}/clock", web::post().to(clock))
        .route("/{drill}/injects", web::post().to(inject))
        .route("/{drill}/report", web::get().to(report));
}

/// What starting a drill takes.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartRequest {
    /// A shipped drill by name (`seeds/drills/<name>.json`).
    #[serde(default)]
    script: Option<String>,
    /// Or a whole script in the same format.
    #[serde(default)]
    script_body: Option<Value>,
    #[serde(default)]
    from: StartFrom,
    /// Drill seconds per wall second, or `"max"` (default 1).
    #[serde(default)]
    speed: Option<SpeedArg>,
    /// Start with the clock stopped.
    #[serde(default)]
    paused: bool,
    /// Subjects of live accounts let into the drill as players.
    #[serde(default)]
    participants: Vec<String>,
    /// Replay a recorded range of the live log instead of a script.
    #[serde(default)]
    replay: Option<Range>,
}

fn invalid(slug: &str, field: &str, detail: impl Into<String>) -> Problem {
    Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        slug,
        "Invalid drill request",
        detail,
    )
    .with_field(field)
}

fn drills(request: &HttpRequest) -> Result<web::Data<Drills>, Problem> {
    request
        .app_data::<web::Data<Drills>>()
        .cloned()
        .ok_or_else(|| Problem::unavailable("drills are not hosted by this service"))
}

fn hosted(request: &HttpRequest) -> Result<std::sync::Arc<crate::drills::Hosted>, Problem> {
    let id = request.match_info().get("drill").unwrap_or_default();
    drills(request)?.get(id).ok_or_else(|| unknown_drill(id))
}

async fn start(request: HttpRequest, payload: web::Payload) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    let body = read_body(&request, payload).await?;
    let asked: StartRequest = json_body(&body)?;
    let text = match (&asked.script, &asked.script_body, &asked.replay) {
        (Some(name), None, None) => shipped(name)
            .ok_or_else(|| {
                let names: Vec<&str> = ercs_seed::drill_script::SHIPPED
                    .iter()
                    .map(|(n, _)| *n)
                    .collect();
                invalid(
                    "unknown-drill-script",
                    "script",
                    format!(
                        "no shipped drill `{name}`; the shipped drills are {}",
                        names.join(", ")
                    ),
                )
            })?
            .to_owned(),
        (None, Some(body), None) => body.to_string(),
        // A replay's script is made for it once its range is known.
        (None, None, Some(_)) => REPLAY_PLACEHOLDER.to_owned(),
        _ => {
            return Err(invalid(
                "drill-script-required",
                "script",
                "name a shipped drill in `script`, send one in `script_body`, or replay a range of \
                 the live log in `replay`: one of the three",
            ));
        }
    };
    let script = ercs_seed::drill_script::DrillScript::parse(&text)
        .map_err(|e| invalid("invalid-drill-script", "script_body", e.to_string()))?;
    let speed = match asked.speed {
        None => ercs_drill::Speed::Factor(1.0),
        Some(speed) => speed
            .speed()
            .map_err(|e| invalid("invalid-speed", "speed", e))?,
    };
    if asked.replay.is_some() && asked.from != StartFrom::Seed {
        return Err(invalid(
            "replay-starts-before-its-range",
            "from",
            "a replay starts from the live network just before its range; leave `from` out",
        ));
    }
    let by = crate::auth::principal_of(&request).map_or_else(|| "anonymous".to_owned(), |p| p.name);
    let hosted = drills(&request)?
        .start(Starting {
            from: asked.from,
            speed,
            paused: asked.paused,
            participants: asked.participants,
            started_by: by,
            range: asked.replay,
            ..Starting::new(script, text)
        })
        .await?;
    Ok(HttpResponse::Created()
        .insert_header((header::LOCATION, format!("/api/v1/drills/{}", hosted.id)))
        .json(hosted.status().await))
}

async fn list(request: HttpRequest) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    let mut items = Vec::new();
    for hosted in drills(&request)?.all() {
        items.push(hosted.status().await);
    }
    Ok(HttpResponse::Ok().json(json!({ "items": items })))
}

async fn status(request: HttpRequest) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    Ok(HttpResponse::Ok().json(hosted(&request)?.status().await))
}

async fn delete(request: HttpRequest) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    let id = request.match_info().get("drill").unwrap_or_default();
    drills(&request)?.delete(id).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn clock(request: HttpRequest, payload: web::Payload) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    let hosted = hosted(&request)?;
    let body = read_body(&request, payload).await?;
    let action = match json_body(&body)? {
        ClockAction::SeekPosition { position } => ClockAction::Seek {
            to: hosted.time_at(position).await?,
        },
        other => other,
    };
    // Back in drill time, the sandbox is rebuilt to that point.
    if let ClockAction::Seek { to } = action
        && to < hosted.now()
    {
        // Rebuilding the sandbox reads it whole: the history runtime's work.
        let all = drills(&request)?.into_inner();
        let id = hosted.id.clone();
        let rewound = hosted
            .network
            .background
            .run(async move { all.rewind(&id, to).await })
            .await??;
        return Ok(HttpResponse::Ok().json(rewound.status().await));
    }
    hosted.control(action).await?;
    Ok(HttpResponse::Ok().json(hosted.status().await))
}

/// A scripted inject by name, or a free one (a message to the players).
#[derive(Debug, Deserialize)]
#[serde(untagged, deny_unknown_fields)]
enum InjectRequest {
    Scripted {
        inject: String,
    },
    Free {
        label: String,
        #[serde(default)]
        narrative: Option<String>,
    },
}

async fn inject(request: HttpRequest, payload: web::Payload) -> Result<HttpResponse, Problem> {
    crate::query::Params::of(&request)?.finish()?;
    let hosted = hosted(&request)?;
    let body = read_body(&request, payload).await?;
    let asked: InjectRequest = json_body(&body).map_err(|_| {
        invalid(
            "invalid-inject",
            "inject",
            "send `{\"inject\": NAME}` for one of the script's injects, or `{\"label\": TEXT, \
             \"narrative\": TEXT}` for a free inject",
        )
    })?;
    match asked {
        InjectRequest::Scripted { inject } => {
            if !hosted.inject(&inject).await? {
                return Err(Problem::new(
                    StatusCode::CONFLICT,
                    "inject-fired",
                    "Inject already fired",
                    format!("inject `{inject}` has been fired in this drill already; an inject fires once"),
                )
                .with_field("inject"));
            }
        }
        InjectRequest::Free { label, narrative } => {
            if label.trim().is_empty() || label.chars().count() > 200 {
                return Err(invalid(
                    "invalid-inject",
                    "label",
                    "a free inject's label is 1 to 200 characters",
                ));
            }
            let by = crate::auth::principal_of(&request)
                .map_or_else(|| "anonymous".to_owned(), |p| p.name);
            hosted.free_inject(label, narrative, by)?;
        }
    }
    Ok(HttpResponse::Ok().json(hosted.status().await))
}

/// The report: `format=json` (default) or `html` (a printable page), and
/// `compare=<drill>` to set another run of the same script beside it.
async fn report(request: HttpRequest) -> Result<HttpResponse, Problem> {
    let mut params = crate::query::Params::of(&request)?;
    let format = params.take_raw("format");
    let other = params.take_raw("compare");
    params.finish()?;
    let hosted = hosted(&request)?;
    let html = match format.as_deref() {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(Problem::new(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid parameter",
                format!("`format` is json or html, not {other:?}"),
            )
            .with_field("format"));
        }
    };
    // Reading a drill's whole record is the history runtime's work, never the
    // request threads'.
    let after_action = in_background(&hosted, |h| async move { h.after_action().await }).await?;
    let status = hosted.status().await;
    if html {
        let title = format!("{}（{}）", status.title, hosted.id);
        return Ok(HttpResponse::Ok()
            .content_type("text/html; charset=utf-8")
            .body(after_action.html(&title)));
    }
    let comparison = match other {
        Some(other_id) => {
            let other = drills(&request)?
                .get(&other_id)
                .ok_or_else(|| unknown_drill(&other_id).with_field("compare"))?;
            if other.script != hosted.script {
                return Err(invalid(
                    "not-the-same-script",
                    "compare",
                    format!(
                        "drill {other_id} runs `{}`, not `{}`: only runs of one script compare",
                        other.script, hosted.script
                    ),
                ));
            }
            let theirs = in_background(&other, |h| async move { h.after_action().await }).await?;
            Some(ercs_drill::compare(&after_action, &theirs))
        }
        None => None,
    };
    let report = in_background(&hosted, |h| async move { h.report().await }).await?;
    Ok(HttpResponse::Ok().json(json!({
        "drill": hosted.id,
        "status": status,
        "report": report,
        "after_action": after_action,
        "compared_with": comparison,
    })))
}

/// Runs `work` on the drill's history runtime (shared with the live network).
async fn in_background<T, F>(
    hosted: &std::sync::Arc<crate::drills::Hosted>,
    work: impl FnOnce(std::sync::Arc<crate::drills::Hosted>) -> F,
) -> Result<T, Problem>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, Problem>> + Send + 'static,
{
    let future = work(std::sync::Arc::clone(hosted));
    hosted.network.background.run(future).await?
}

/// The drill endpoints, for the OpenAPI document. The network's endpoints
/// inside a drill (`/api/v1/drills/{drill}/teams`, …) are the live ones, as
/// the `drills` tag says, so they are not listed twice.
pub fn paths() -> serde_json::Map<String, Value> {
    let problem = json!({"$ref": "#/components/responses/Problem"});
    let drill = json!({"name": "drill", "in": "path", "required": true,
        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"},
        "description": "The drill's id, e.g. wanzhou-respiratory-outbreak-20261202T101500Z"});
    let speed = json!({"oneOf": [{"type": "number", "exclusiveMinimum": 0, "maximum": 10000},
        {"const": "max"}], "description": "Drill seconds per wall second, or `max`: as fast as possible"});
    let status = json!({"type": "object",
        "required": ["drill", "script", "title", "state", "state_zh", "drill_time", "speed", "steps_run", "steps", "base"],
        "properties": {
            "drill": {"type": "string"}, "script": {"type": "string"}, "title": {"type": "string"},
            "started_by": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
            "from": {}, "state": {"enum": ["running", "paused", "finished"]}, "state_zh": {"type": "string"},
            "drill_time": {"type": "string", "format": "date-time"}, "speed": {},
            "steps_run": {"type": "integer"}, "steps": {"type": "integer"},
            "next_step_at": {"type": "string", "format": "date-time"},
            "injects": {"type": "array"}, "fired": {"type": "array"}, "free_injects": {"type": "array"},
            "refused": {"type": "array"}, "participants": {"type": "array", "items": {"type": "string"}},
            "base": {"type": "string", "description": "The drill's network: the live endpoints under this path"}}});
    let shipped: Vec<&str> = ercs_seed::drill_script::SHIPPED
        .iter()
        .map(|(n, _)| *n)
        .collect();
    let json_body = |schema: Value, example: Value| {
        json!({"required": true, "content": {"application/json": {
        "schema": schema, "example": example}}})
    };
    let ok = |description: &str, schema: &Value| {
        json!({"description": description,
        "content": {"application/json": {"schema": schema}}})
    };
    let mut paths = serde_json::Map::new();
    paths.insert("/api/v1/drills".into(), json!({
        "post": {"tags": ["drills"], "operationId": "start_drill",
            "summary": "Start a drill (演练) on a sandbox of its own: from a shipped or sent script, on the seed or a copy of the live network (drill directors and admins)",
            "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "properties": {
                "script": {"enum": shipped, "description": "A shipped drill (seeds/drills/)"},
                "script_body": {"type": "object", "description": "A whole drill script (seeds/drills/README.md)"},
                "from": {"oneOf": [{"const": "seed"}, {"type": "object", "required": ["live"], "properties": {
                    "live": {"type": "object", "properties": {"position": {"type": "integer", "minimum": 0}}}}}],
                    "description": "`seed` (default), or a copy of the live network as of a log position (its head if none)"},
                "speed": speed, "paused": {"type": "boolean", "default": false},
                "participants": {"type": "array", "items": {"type": "string"},
                    "description": "Subjects of live accounts let in as players"},
                "replay": {"type": "object", "additionalProperties": false,
                    "description": "Replay a recorded range of the live log (回放) instead of a script: its events go into the sandbox at their recorded times, on the drill's clock, over a copy of the live network just before the range",
                    "properties": {"from": {"type": "integer", "minimum": 0, "description": "After this live position"},
                        "to": {"type": "integer", "minimum": 1, "description": "Through this live position (default: the head)"},
                        "since": {"type": "string", "format": "date-time"}, "until": {"type": "string", "format": "date-time"}}}}}),
                json!({"script": "wanzhou-respiratory-outbreak", "from": {"live": {}}, "speed": 60})),
            "responses": {"201": ok("The drill, started", &status), "400": problem, "403": problem,
                "415": problem, "422": problem, "503": problem}},
        "get": {"tags": ["drills"], "operationId": "list_drills", "summary": "Every drill this service hosts",
            "responses": {"200": ok("The drills", &json!({"type": "object", "required": ["items"],
                "properties": {"items": {"type": "array", "items": status.clone()}}})), "400": problem}}}));
    paths.insert("/api/v1/drills/{drill}".into(), json!({
        "get": {"tags": ["drills"], "operationId": "get_drill", "summary": "A drill: its clock, steps, injects",
            "parameters": [drill.clone()],
            "responses": {"200": ok("The drill", &status), "400": problem, "404": problem}},
        "delete": {"tags": ["drills"], "operationId": "delete_drill",
            "summary": "Stop a drill and delete its sandbox (drill directors and admins)",
            "parameters": [drill.clone()],
            "responses": {"204": {"description": "Deleted"}, "403": problem, "404": problem, "503": problem}}}));
    paths.insert("/api/v1/drills/{drill}/clock".into(), json!({"post": {"tags": ["drills"],
        "operationId": "steer_drill_clock",
        "summary": "Pause, resume, change speed, run the next step now, or move drill time forward",
        "parameters": [drill.clone()],
        "requestBody": json_body(json!({"oneOf": [
            {"type": "object", "required": ["action"], "properties": {"action": {"enum": ["pause", "resume", "step"]}}},
            {"type": "object", "required": ["action", "speed"], "properties": {"action": {"const": "speed"}, "speed": speed}},
            {"type": "object", "required": ["action", "to"], "properties": {"action": {"const": "seek"},
                "to": {"type": "string", "format": "date-time"}}},
            {"type": "object", "required": ["action", "position"], "properties": {"action": {"const": "seek_position"},
                "position": {"type": "integer", "minimum": 1}}}]}), json!({"action": "pause"})),
        "responses": {"200": ok("The drill", &status), "400": problem, "403": problem, "404": problem,
            "409": problem, "415": problem, "422": problem, "503": problem}}}));
    paths.insert("/api/v1/drills/{drill}/injects".into(), json!({"post": {"tags": ["drills"],
        "operationId": "inject_into_drill",
        "summary": "Fire one of the script's injects now, or give the players a free inject (a message)",
        "parameters": [drill.clone()],
        "requestBody": json_body(json!({"oneOf": [
            {"type": "object", "required": ["inject"], "properties": {"inject": {"type": "string"}}},
            {"type": "object", "required": ["label"], "properties": {"label": {"type": "string", "maxLength": 200},
                "narrative": {"type": "string"}}}]}), json!({"label": "媒体询问发热门诊排队情况"})),
        "responses": {"200": ok("The drill", &status), "400": problem, "403": problem, "404": problem,
            "409": problem, "415": problem, "422": problem, "503": problem}}}));
    paths.insert("/api/v1/drills/{drill}/report".into(), json!({"get": {"tags": ["drills"],
        "operationId": "drill_report",
        "summary": "The after-action report (演练评估报告) as the drill stands: timeline of injects and player actions, per demand the minutes to plan, approval and arrival, unmet demand over drill time, the share within each service standard, resources drawn per tier, expected actions met, late or missed; as JSON, or a printable page",
        "parameters": [drill,
            {"name": "format", "in": "query", "required": false, "schema": {"enum": ["json", "html"], "default": "json"}},
            {"name": "compare", "in": "query", "required": false, "schema": {"type": "string"},
             "description": "Another drill of the same script, set side by side"}],
        "responses": {"200": {"description": "The report", "content": {
            "application/json": {"schema": {"type": "object", "required": ["drill", "status", "report", "after_action"],
                "properties": {"drill": {"type": "string"}, "status": status, "report": {"type": "object"},
                    "after_action": {"type": "object"}, "compared_with": {"type": ["object", "null"]}}}},
            "text/html": {"schema": {"type": "string"}}}},
            "400": problem, "404": problem, "422": problem, "503": problem}}}));
    paths
}
