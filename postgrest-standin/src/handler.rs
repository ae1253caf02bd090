//! Routing, the gateway's key check, and the table and RPC endpoints.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use tokio_postgres::Transaction;

use crate::State;
use crate::error::{Failure, json_response};
use crate::request::{self, Params, Prefer, Resolution};
use crate::sql::{self, Function, Table};

pub fn router(state: Arc<State>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

async fn handle(
    Extract(state): Extract<Arc<State>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match serve(&state, &method, &uri, &headers, &body).await {
        Ok(response) => response,
        Err(failure) => {
            if let Failure::NotImplemented(shape) = failure {
                Failure::NotImplemented(format!("{method} {}: {shape}", uri.path())).into_response()
            } else {
                failure.into_response()
            }
        }
    }
}

/// The database role a request runs as, from the key it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    /// The secret key, or the service_role JWT in `Authorization`.
    Service,
    /// A legacy key sent as `apikey` only: PostgREST sees no JWT and uses its anonymous role.
    Anon,
}

impl Role {
    fn set_role(self) -> &'static str {
        match self {
            Role::Service => "SET LOCAL ROLE service_role",
            Role::Anon => "SET LOCAL ROLE anon",
        }
    }

    /// Whether PostgREST counts the request as authenticated (a JWT was sent): 42501 is then 403.
    fn authenticated(self) -> bool {
        self == Role::Service
    }
}

/// The Supabase gateway: the `apikey` header must be the project's key. A legacy (JWT) key must
/// also come as `Authorization: Bearer`; a new `sb_secret_` key must come alone.
fn authenticate(state: &State, headers: &HeaderMap) -> Result<Role, Failure> {
    let Some(apikey) = headers.get("apikey") else {
        return Err(Failure::Gateway {
            status: StatusCode::UNAUTHORIZED,
            message: "No API key found in request",
            hint: Some("No `apikey` request header or url param was found."),
        });
    };
    if apikey.as_bytes() != state.api_key.as_bytes() {
        return Err(Failure::Gateway {
            status: StatusCode::UNAUTHORIZED,
            message: "Invalid API key",
            hint: Some("Double check the provided API key."),
        });
    }
    let authorization = headers.get("authorization");
    if state.api_key.starts_with("sb_") {
        return match authorization {
            None => Ok(Role::Service),
            Some(_) => Err(Failure::not_implemented(
                "an Authorization header with an sb_secret_ key (Supabase wants it as apikey only)",
            )),
        };
    }
    match authorization {
        None => Ok(Role::Anon),
        Some(value) if value.as_bytes() == format!("Bearer {}", state.api_key).as_bytes() => {
            Ok(Role::Service)
        }
        Some(_) => Err(Failure::api(
            StatusCode::UNAUTHORIZED,
            "PGRST301",
            "No suitable key or wrong key type",
        )),
    }
}

async fn serve(
    state: &State,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let Some(path) = uri.path().strip_prefix("/rest/v1/") else {
        return Err(Failure::Gateway {
            status: StatusCode::NOT_FOUND,
            message: "no Route matched with those values",
            hint: None,
        });
    };
    let role = authenticate(state, headers)?;
    if state.unavailable() {
        return Err(Failure::api(
            StatusCode::SERVICE_UNAVAILABLE,
            "PGRST001",
            "Database client error. Retrying the connection.",
        ));
    }
    check_negotiation(headers)?;
    let query = uri.query().unwrap_or_default();
    if let Some(function) = path.strip_prefix("rpc/") {
        return match *method {
            Method::POST => rpc(state, role, function, query, headers, body).await,
            _ => Err(Failure::not_implemented("RPC other than POST")),
        };
    }
    if path.is_empty() || path.contains('/') {
        return Err(Failure::not_implemented(
            "paths other than /<table> and /rpc/<fn>",
        ));
    }
    match *method {
        Method::GET => read(state, role, path, query, headers).await,
        Method::POST => insert(state, role, path, query, headers, body).await,
        Method::PATCH => update(state, role, path, query, headers, body).await,
        _ => Err(Failure::not_implemented("this method")),
    }
}

/// JSON in and out, schema `public`: anything else is a shape the stand-in does not implement.
fn check_negotiation(headers: &HeaderMap) -> Result<(), Failure> {
    if let Some(accept) = headers.get("accept") {
        let accept = accept.to_str().unwrap_or_default();
        if !accept.contains("application/json") && accept != "*/*" {
            return Err(Failure::not_implemented(format!("Accept: {accept}")));
        }
    }
    for profile in ["accept-profile", "content-profile"] {
        if let Some(schema) = headers.get(profile)
            && schema.as_bytes() != b"public"
        {
            return Err(Failure::not_implemented(format!(
                "{profile}: {schema:?} (only public)"
            )));
        }
    }
    Ok(())
}

fn check_json_body(headers: &HeaderMap) -> Result<(), Failure> {
    let content_type = headers
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/json") {
        Ok(())
    } else {
        Err(Failure::not_implemented(format!(
            "Content-Type {content_type:?} (only application/json)"
        )))
    }
}

fn invalid_json() -> Failure {
    Failure::api(StatusCode::BAD_REQUEST, "PGRST102", "Empty or invalid json")
}

/// Runs `work` in a transaction on a pooled connection; PostgREST does one per request too.
async fn transaction<T>(
    state: &State,
    role: Role,
    work: impl AsyncFnOnce(&Transaction<'_>) -> Result<T, Failure>,
) -> Result<T, Failure> {
    let database =
        |error: tokio_postgres::Error| Failure::from_postgres(&error, role.authenticated());
    let mut client = state.pool.get().await.map_err(database)?;
    let result = async {
        let tx = client.transaction().await.map_err(database)?;
        let value = work(&tx).await?;
        tx.commit().await.map_err(database)?;
        Ok(value)
    }
    .await;
    state.pool.put(client);
    result
}

/// Looks the table up (as PostgREST's schema cache would), then becomes the request's role.
async fn open_table(tx: &Transaction<'_>, role: Role, name: &str) -> Result<Table, Failure> {
    let database =
        |error: tokio_postgres::Error| Failure::from_postgres(&error, role.authenticated());
    let table = Table::find(tx, name)
        .await
        .map_err(database)?
        .ok_or_else(|| {
            Failure::api(
                StatusCode::NOT_FOUND,
                "PGRST205",
                format!("Could not find the table 'public.{name}' in the schema cache"),
            )
        })?;
    tx.batch_execute(role.set_role()).await.map_err(database)?;
    Ok(table)
}

/// Runs a statement that answers (count, rows, body).
async fn answer(
    tx: &Transaction<'_>,
    role: Role,
    statement: &sql::Statement,
) -> Result<(Option<i64>, i64, String), Failure> {
    let row = tx
        .query_one(statement.text.as_str(), &statement.params())
        .await
        .map_err(|error| Failure::from_postgres(&error, role.authenticated()))?;
    Ok((row.get(0), row.get(1), row.get(2)))
}

fn with_header(mut response: Response, name: &'static str, value: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
    response
}

fn range_not_satisfiable(details: String) -> Failure {
    Failure::api(
        StatusCode::RANGE_NOT_SATISFIABLE,
        "PGRST103",
        "Requested range not satisfiable",
    )
    .with_details(details)
}

async fn read(
    state: &State,
    role: Role,
    table_name: &str,
    query: &str,
    headers: &HeaderMap,
) -> Result<Response, Failure> {
    let params = Params::parse(query)?;
    if params.on_conflict.is_some() {
        return Err(Failure::not_implemented("on_conflict on a read"));
    }
    let prefer = Prefer::parse(headers)?;
    if prefer.resolution.is_some() {
        return Err(Failure::not_implemented("Prefer: resolution on a read"));
    }
    let (offset, requested) = match request::range(headers)? {
        None => (0, None),
        Some(range) => match range.last {
            Some(last) if last < range.offset => {
                return Err(range_not_satisfiable(
                    "The lower boundary must be lower than or equal to the upper boundary in the Range header."
                        .into(),
                ));
            }
            Some(last) => (range.offset, Some(last - range.offset + 1)),
            None => (range.offset, None),
        },
    };
    // db-max-rows caps every answer, whatever range was asked for.
    let max_rows = u64::try_from(state.max_rows.load(Ordering::SeqCst)).unwrap_or(u64::MAX);
    let limit = requested.map_or(max_rows, |requested| requested.min(max_rows));
    let (total, returned, body) = transaction(state, role, async |tx| {
        let table = open_table(tx, role, table_name).await?;
        answer(
            tx,
            role,
            &sql::read(&table, &params, offset, limit, prefer.count),
        )
        .await
    })
    .await?;
    let total = total.map(|total| u64::try_from(total).unwrap_or(0));
    let returned = u64::try_from(returned).unwrap_or(0);
    if let Some(total) = total
        && offset > total
    {
        return Err(range_not_satisfiable(format!(
            "An offset of {offset} was requested, but there are only {total} rows."
        )));
    }
    let status = match total {
        Some(total) if returned < total => StatusCode::PARTIAL_CONTENT,
        _ => StatusCode::OK,
    };
    let total_text = total.map_or("*".to_string(), |total| total.to_string());
    let content_range = if returned > 0 && total != Some(0) {
        format!("{offset}-{}/{total_text}", offset + returned - 1)
    } else {
        format!("*/{total_text}")
    };
    let mut response = with_header(json_response(status, body), "content-range", &content_range);
    if prefer.count {
        response = with_header(response, "preference-applied", &prefer.applied(false));
    }
    Ok(response)
}

/// The objects of a write body, which must all have the same keys.
fn body_objects(body: &[u8]) -> Result<Vec<Map<String, Value>>, Failure> {
    let objects = match serde_json::from_slice::<Value>(body).map_err(|_| invalid_json())? {
        Value::Object(object) => vec![object],
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Object(object) => Ok(object),
                _ => Err(invalid_json()),
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(invalid_json()),
    };
    let Some(first) = objects.first() else {
        return Err(Failure::not_implemented("an empty array body"));
    };
    let keys: BTreeSet<&String> = first.keys().collect();
    if keys.is_empty() {
        return Err(Failure::not_implemented("an empty object body"));
    }
    if objects
        .iter()
        .any(|object| object.keys().collect::<BTreeSet<_>>() != keys)
    {
        return Err(Failure::api(
            StatusCode::BAD_REQUEST,
            "PGRST102",
            "All object keys must match",
        ));
    }
    Ok(objects)
}

/// PGRST204 for a key that is not a column.
fn check_columns(table: &Table, keys: &[&str]) -> Result<(), Failure> {
    match keys.iter().find(|key| !table.has_column(key)) {
        Some(key) => Err(Failure::api(
            StatusCode::BAD_REQUEST,
            "PGRST204",
            format!(
                "Could not find the '{key}' column of '{}' in the schema cache",
                table.name
            ),
        )),
        None => Ok(()),
    }
}

async fn insert(
    state: &State,
    role: Role,
    table_name: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let params = Params::parse(query)?;
    if params.has_conditions() || !params.order.is_empty() {
        return Err(Failure::not_implemented("filters or order on an insert"));
    }
    let prefer = Prefer::parse(headers)?;
    if prefer.count || headers.contains_key("range") {
        return Err(Failure::not_implemented("count or Range on an insert"));
    }
    let conflict = match (params.on_conflict.as_deref(), prefer.resolution) {
        (Some(target), Some(resolution)) => Some((target, resolution)),
        (None, None) => None,
        _ => {
            return Err(Failure::not_implemented(
                "on_conflict without Prefer: resolution, or resolution without on_conflict",
            ));
        }
    };
    check_json_body(headers)?;
    let objects = body_objects(body)?;
    let keys: Vec<&str> = objects
        .first()
        .map(|object| object.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let rows = Value::Array(objects.iter().cloned().map(Value::Object).collect()).to_string();
    let (inserted, _, body) = transaction(state, role, async |tx| {
        let table = open_table(tx, role, table_name).await?;
        check_columns(&table, &keys)?;
        let statement = sql::insert(&table, &keys, rows, conflict, params.select.as_deref());
        answer(tx, role, &statement).await
    })
    .await?;
    let status = match prefer.resolution {
        Some(Resolution::MergeDuplicates) if inserted == Some(0) => StatusCode::OK,
        _ => StatusCode::CREATED,
    };
    let response = if prefer.representation {
        json_response(status, body)
    } else {
        status.into_response()
    };
    Ok(with_header(
        response,
        "preference-applied",
        &prefer.applied(true),
    ))
}

async fn update(
    state: &State,
    role: Role,
    table_name: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    let params = Params::parse(query)?;
    if params.on_conflict.is_some() || !params.order.is_empty() || headers.contains_key("range") {
        return Err(Failure::not_implemented(
            "on_conflict, order or Range on an update",
        ));
    }
    let prefer = Prefer::parse(headers)?;
    if prefer.count || prefer.resolution.is_some() {
        return Err(Failure::not_implemented(
            "Prefer: count or resolution on an update",
        ));
    }
    if !params.has_conditions() {
        // Supabase runs pg-safeupdate.
        return Err(Failure::api(
            StatusCode::BAD_REQUEST,
            "21000",
            "UPDATE requires a WHERE clause",
        ));
    }
    check_json_body(headers)?;
    if serde_json::from_slice::<Value>(body).is_ok_and(|value| value.is_array()) {
        return Err(Failure::not_implemented("an array body on an update"));
    }
    let objects = body_objects(body)?;
    let object = objects.into_iter().next().unwrap_or_default();
    let keys: Vec<&str> = object.keys().map(String::as_str).collect();
    let row = Value::Object(object.clone()).to_string();
    let (_, _, body) = transaction(state, role, async |tx| {
        let table = open_table(tx, role, table_name).await?;
        check_columns(&table, &keys)?;
        answer(tx, role, &sql::update(&table, &keys, row, &params)).await
    })
    .await?;
    let response = if prefer.representation {
        json_response(StatusCode::OK, body)
    } else {
        StatusCode::NO_CONTENT.into_response()
    };
    Ok(with_header(
        response,
        "preference-applied",
        &prefer.applied(true),
    ))
}

async fn rpc(
    state: &State,
    role: Role,
    name: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, Failure> {
    if !query.is_empty() || headers.contains_key("prefer") || headers.contains_key("range") {
        return Err(Failure::not_implemented(
            "query parameters, Prefer or Range on an RPC",
        ));
    }
    check_json_body(headers)?;
    let arguments = match serde_json::from_slice::<Value>(body).map_err(|_| invalid_json())? {
        Value::Object(arguments) => arguments,
        _ => {
            return Err(Failure::not_implemented(
                "an RPC body other than one object",
            ));
        }
    };
    let keys: Vec<&str> = arguments.keys().map(String::as_str).collect();
    let body = Value::Object(arguments.clone()).to_string();
    let result = transaction(state, role, async |tx| {
        let database =
            |error: tokio_postgres::Error| Failure::from_postgres(&error, role.authenticated());
        let candidates = Function::find_all(tx, name).await.map_err(database)?;
        let Some(function) = candidates.into_iter().find(|f| f.accepts(&keys)) else {
            let mut sorted = keys.clone();
            sorted.sort_unstable();
            return Err(Failure::api(
                StatusCode::NOT_FOUND,
                "PGRST202",
                format!(
                    "Could not find the function public.{name}({}) in the schema cache",
                    sorted.join(", ")
                ),
            )
            .with_details(format!(
                "Searched for the function public.{name} with parameters {} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.",
                sorted.join(", ")
            )));
        };
        if function.returns_set || function.unusual_args {
            return Err(Failure::not_implemented(
                "functions returning sets or with OUT/VARIADIC arguments",
            ));
        }
        tx.batch_execute(role.set_role()).await.map_err(database)?;
        let statement = function.call(&keys, body);
        if function.returns_void {
            tx.execute(statement.text.as_str(), &statement.params())
                .await
                .map_err(database)?;
            return Ok(None);
        }
        let row = tx
            .query_one(statement.text.as_str(), &statement.params())
            .await
            .map_err(database)?;
        Ok(Some(row.get::<_, Option<String>>(0).unwrap_or_else(|| "null".into())))
    })
    .await?;
    Ok(match result {
        Some(json) => json_response(StatusCode::OK, json),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
