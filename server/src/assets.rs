//! The built front end (`/pkg/…`: WASM, JS, CSS) and the site's other static files, served the way a first
//! visit on a phone needs: files compressed once at build time (`cargo leptos build --release --precompress`
//! writes a brotli-11 `.br` and a gzip `.gz` twin beside each), never per request; content-hashed names
//! (`hash-files` in Cargo.toml) cached for a year as immutable, so a repeat visit fetches only the HTML;
//! the HTML itself `no-cache`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use axum::Router;
use http::{header, HeaderValue, StatusCode};
use std::path::{Path, PathBuf};
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::services::{ServeDir, ServeFile};

/// Hashed assets never change under their name.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Pages and anything whose name does not change with its content: ask the server each time.
pub const REVALIDATE: &str = "no-cache";
/// The favicon keeps its name; a day is short enough for a new one to show.
const FAVICON: &str = "public, max-age=86400";

/// Whether a file name carries a content hash the way cargo-leptos writes it: `name.<22 base64url>.ext`
/// (an MD5 in unpadded base64url), e.g. `supportal.k3Lq0XbN1aQ2vR7sT9uW_w.wasm`.
pub fn is_hashed_name(file_name: &str) -> bool {
    let mut parts = file_name.rsplit('.');
    let (Some(_ext), Some(hash), Some(stem)) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    !stem.is_empty() && hash.len() == 22 && hash.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `Cache-Control` for a file under `/pkg`: immutable when its name is hashed, else revalidated.
pub fn pkg_cache_control(path: &str) -> &'static str {
    let file_name = path.rsplit('/').next().unwrap_or_default();
    let file_name = file_name.strip_suffix(".br").or_else(|| file_name.strip_suffix(".gz")).unwrap_or(file_name);
    if is_hashed_name(file_name) {
        IMMUTABLE
    } else {
        REVALIDATE
    }
}

/// `/pkg/…` from `<site root>/pkg`, choosing the `.br` or `.gz` twin the client accepts.
pub fn pkg_router<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let files = ServeDir::new(site_root.join("pkg")).precompressed_br().precompressed_gzip();
    let favicon = ServeFile::new(site_root.join("favicon.svg")).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service("/pkg", files)
        .route_service("/favicon.svg", favicon)
        .layer(axum::middleware::from_fn(static_cache_headers))
}

async fn static_cache_headers(req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let mut response = next.run(req).await;
    if matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED | StatusCode::PARTIAL_CONTENT) {
        let policy = if path.starts_with("/pkg/") { pkg_cache_control(&path) } else { FAVICON };
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    } else {
        // A missing asset must not be cached, or a deploy that adds it would stay invisible.
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Pages (and every other response that says nothing itself) are revalidated on each visit.
pub async fn html_no_cache(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let is_html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html && !response.headers().contains_key(header::CACHE_CONTROL) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
    }
    response
}

/// What the compression layer may compress on the fly: dynamic responses (pages, JSON, server functions), never
/// a static file. Those were compressed at build time; one without a twin the client accepts goes out as is.
#[derive(Clone)]
pub struct DynamicOnly(DefaultPredicate);

impl DynamicOnly {
    pub fn new() -> Self {
        DynamicOnly(DefaultPredicate::new())
    }
}

impl Default for DynamicOnly {
    fn default() -> Self {
        DynamicOnly::new()
    }
}

impl Predicate for DynamicOnly {
    fn should_compress<B: axum::body::HttpBody>(&self, response: &http::Response<B>) -> bool {
        let cached_file = response
            .headers()
            .get(header::CACHE_CONTROL)
            .is_some_and(|v| v == IMMUTABLE || v == FAVICON || v == "no-store");
        !cached_file && self.0.should_compress(response)
    }
}

/// Where cargo-leptos writes the content hashes of the front end's files (`hash-file-name` in Cargo.toml): in
/// the site root, so the built site is one folder to copy.
pub const HASH_FILE: &str = "hash.txt";

/// Points leptos at the hashed names when the site was built with them (the page's script, WASM and
/// stylesheet links then carry the hash), and says at start what a badly built site will cost.
pub fn with_hashed_names(mut options: leptos::config::LeptosOptions) -> leptos::config::LeptosOptions {
    let site_root = PathBuf::from(&*options.site_root);
    let hash_file = std::path::absolute(site_root.join(HASH_FILE)).unwrap_or_else(|_| site_root.join(HASH_FILE));
    // Leptos joins this onto the executable's folder; an absolute path replaces it.
    options.hash_files = hash_file.exists();
    options.hash_file = hash_file.to_string_lossy().as_ref().into();
    let unprepared = unprepared_files(&site_root);
    if !unprepared.is_empty() {
        tracing::warn!(
            files = unprepared.len(),
            first = %unprepared[0].display(),
            "front-end files without a hashed name or a .br/.gz twin: every visit downloads them in full; \
             build with `cargo leptos build --release --precompress`"
        );
    }
    options
}

/// Files under `<site root>/pkg` lacking a `.br` or `.gz` twin (a build without `--precompress`), or lacking a
/// hash in their name (a build without `hash-files`): logged at start, since they cost every visitor.
pub fn unprepared_files(site_root: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    let mut stack = vec![site_root.join("pkg")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if name.ends_with(".br") || name.ends_with(".gz") {
                continue;
            }
            let twin = |ext: &str| {
                let mut p = path.clone().into_os_string();
                p.push(ext);
                PathBuf::from(p).exists()
            };
            if !twin(".br") || !twin(".gz") || pkg_cache_control(name) != IMMUTABLE {
                missing.push(path);
            }
        }
    }
    missing.sort();
    missing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        for (name, hashed) in [
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW_w.wasm", true),
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW-w.js", true),
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW_w.css", true),
            ("supportal.wasm", false),
            ("supportal.css", false),
            ("supportal_bg.wasm", false),
            // 21 and 23 characters, a character outside base64url, no stem
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW_.wasm", false),
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW_ww.wasm", false),
            ("supportal.k3Lq0XbN1aQ2vR7sT9uW+w.wasm", false),
            (".k3Lq0XbN1aQ2vR7sT9uW_w.wasm", false),
        ] {
            assert_eq!(is_hashed_name(name), hashed, "{name}");
        }
    }

    #[test]
    fn cache_control_follows_the_name() {
        assert_eq!(pkg_cache_control("/pkg/supportal.k3Lq0XbN1aQ2vR7sT9uW_w.wasm"), IMMUTABLE);
        assert_eq!(pkg_cache_control("/pkg/supportal.k3Lq0XbN1aQ2vR7sT9uW_w.wasm.br"), IMMUTABLE);
        assert_eq!(pkg_cache_control("/pkg/supportal.wasm"), REVALIDATE);
        assert_eq!(pkg_cache_control("/pkg/"), REVALIDATE);
    }

    #[test]
    fn finds_files_without_twins_or_hashes() {
        let root = std::env::temp_dir().join(format!("supportal-assets-{}", std::process::id()));
        let pkg = root.join("pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for name in [
            "app.k3Lq0XbN1aQ2vR7sT9uW_w.wasm",
            "app.k3Lq0XbN1aQ2vR7sT9uW_w.wasm.br",
            "app.k3Lq0XbN1aQ2vR7sT9uW_w.wasm.gz",
            "app.AAAAAAAAAAAAAAAAAAAAAA.js",
            "app.AAAAAAAAAAAAAAAAAAAAAA.js.gz",
            "app.css",
            "app.css.br",
            "app.css.gz",
        ] {
            std::fs::write(pkg.join(name), b"x").unwrap();
        }
        let names: Vec<String> =
            unprepared_files(&root).iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        std::fs::remove_dir_all(&root).unwrap();
        assert_eq!(names, ["app.AAAAAAAAAAAAAAAAAAAAAA.js", "app.css"]);
    }
}
