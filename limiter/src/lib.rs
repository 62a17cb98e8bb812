//! promptgate-limiter: Envoy's RateLimitService v3 (gRPC) and its HTTP/JSON form (`POST /json`)
//! on limitador, with counters in Redis, for promptgate's `limits.store: {"type": "rls"}`.
//! See docs/distributed-limits.md.

pub mod json;
pub mod service;
pub mod table;

use envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_service_server::{
    RateLimitService, RateLimitServiceServer,
};
use envoy_types::pb::envoy::service::ratelimit::v3::{RateLimitRequest, RateLimitResponse};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use service::{Error, Service};
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// The gRPC face.
pub struct Grpc(pub Arc<Service>);

#[tonic::async_trait]
impl RateLimitService for Grpc {
    async fn should_rate_limit(
        &self,
        request: tonic::Request<RateLimitRequest>,
    ) -> Result<tonic::Response<RateLimitResponse>, tonic::Status> {
        match self.0.should_rate_limit(request.get_ref()).await {
            Ok(r) => Ok(tonic::Response::new(r)),
            Err(Error::Invalid(m)) => Err(tonic::Status::invalid_argument(m)),
            Err(e @ Error::Store(_)) => Err(tonic::Status::unavailable(e.to_string())),
        }
    }
}

/// Serves gRPC on `listener` until the process ends.
pub async fn serve_grpc(svc: Arc<Service>, listener: TcpListener) -> Result<(), String> {
    let incoming = tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true));
    tonic::transport::Server::builder()
        .add_service(RateLimitServiceServer::new(Grpc(svc)))
        .serve_with_incoming(incoming)
        .await
        .map_err(|e| format!("grpc server: {e}"))
}

/// Largest `/json` body accepted (a request has a handful of short descriptors).
const MAX_JSON_BODY: usize = 64 * 1024;

fn reply(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("static parts")
}

fn error_body(msg: &str) -> String {
    serde_json::json!({"error": msg}).to_string()
}

/// One HTTP request: `POST /json`, `GET /healthz`.
pub async fn handle_http(svc: Arc<Service>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    match (req.method(), req.uri().path()) {
        (&Method::GET, "/healthz") => reply(StatusCode::OK, r#"{"status":"ok"}"#.into()),
        (&Method::POST, "/json") => {
            let body = match Limited::new(req.into_body(), MAX_JSON_BODY).collect().await {
                Ok(b) => b.to_bytes(),
                Err(e) => return reply(StatusCode::BAD_REQUEST, error_body(&e.to_string())),
            };
            let request = match json::parse_request(&body) {
                Ok(r) => r,
                Err(e) => return reply(StatusCode::BAD_REQUEST, error_body(&e)),
            };
            match svc.should_rate_limit(&request).await {
                Ok(r) => {
                    let status = if r.overall_code
                        == envoy_types::pb::envoy::service::ratelimit::v3::rate_limit_response::Code::OverLimit as i32
                    {
                        StatusCode::TOO_MANY_REQUESTS
                    } else {
                        StatusCode::OK
                    };
                    reply(status, json::render_response(&r).to_string())
                }
                Err(Error::Invalid(m)) => reply(StatusCode::BAD_REQUEST, error_body(&m)),
                Err(e @ Error::Store(_)) => {
                    reply(StatusCode::SERVICE_UNAVAILABLE, error_body(&e.to_string()))
                }
            }
        }
        (_, "/json") | (_, "/healthz") => reply(
            StatusCode::METHOD_NOT_ALLOWED,
            error_body("method not allowed"),
        ),
        _ => reply(StatusCode::NOT_FOUND, error_body("not found")),
    }
}

/// Serves HTTP/1.1 on `listener` until the process ends.
pub async fn serve_http(svc: Arc<Service>, listener: TcpListener) -> Result<(), String> {
    loop {
        let (stream, _): (_, SocketAddr) = match listener.accept().await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("promptgate-limiter: http accept: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let svc = svc.clone();
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| {
                let svc = svc.clone();
                async move { Ok::<_, std::convert::Infallible>(handle_http(svc, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}
