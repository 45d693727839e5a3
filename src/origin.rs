//! Origins of URLs: the part a credential is bound to, and the one origin that may replace the
//! spec's.
//!
//! A credential goes only where the spec's servers are: a redirect is followed within the
//! request's origin ([`origin_of`], read by [`crate::response`]), and the servers and token
//! endpoints are replaced only by a loopback origin ([`loopback_origin`]: `wrangler dev` and the
//! tests, read by [`crate::call`]), whose path comes from the spec's server ([`server_path`],
//! [`crate::request`]). Plain string work on URLs the table and the upstream gave: no parsing
//! beyond `scheme://host[:port]`, no allocation but the vetted origin's.

/// The origin of a URL: `https://api.stripe.com` of `https://api.stripe.com/v1/x`.
pub fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    url[after_scheme..].find(['/', '?', '#']).map_or(url, |i| &url[..after_scheme + i])
}

/// The path part of a server URL: `/api/v3` of `https://petstore3.swagger.io/api/v3`.
pub fn server_path(server: &str) -> &str {
    let after_scheme = server.find("://").map_or(0, |i| i + 3);
    server[after_scheme..].find('/').map_or("", |i| &server[after_scheme + i..])
}

/// `value` if it is a loopback origin (`http://127.0.0.1:8787`, `http://localhost:9000`,
/// `http://[::1]:8080`, no path), else `None`. Only such an origin may replace the spec's
/// servers: an override pointing anywhere else could carry the credential off, so it is ignored.
pub fn loopback_origin(value: &str) -> Option<String> {
    let value = value.trim().trim_end_matches('/');
    let rest = value.strip_prefix("http://").or_else(|| value.strip_prefix("https://"))?;
    let (host, port) = match rest.strip_prefix("[::1]") {
        Some(port) => ("[::1]", port),
        None => rest.split_at(rest.find(':').unwrap_or(rest.len())),
    };
    let port_ok = port.is_empty()
        || port.strip_prefix(':').is_some_and(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = matches!(host.to_ascii_lowercase().as_str(), "127.0.0.1" | "localhost" | "[::1]");
    (host_ok && port_ok).then(|| value.to_owned())
}
