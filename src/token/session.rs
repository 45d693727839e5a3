//! Cookie sessions, for the token lifecycle ([`super`]): the login request (its fields from
//! their handles, prepared with the deployment's credentials) and the session read from its
//! answer's `Set-Cookie`s: the cookies kept (RFC 6265: the last of a name wins; `Max-Age` 0 or
//! less deletes; one that is no number is ignored), sent as one `Cookie` value, lasting the
//! scheme's lifetime or the shortest `Max-Age`.

use super::{Failure, Obtained};
use crate::http::{HeaderValue, HttpRequest};
use crate::secret::Secret;
use crate::table::{Login, Method};

/// A session from a login's answer: the cookies it set that the scheme keeps, as one `Cookie`
/// value, lasting the scheme's lifetime or the shortest `Max-Age` among them.
pub(super) fn read_session(login: &Login, status: u16, set_cookies: &str) -> Result<Obtained, Failure> {
    if !(200..400).contains(&status) {
        return Err(Failure::Login(status));
    }
    // name → (value, Max-Age), the last of a repeated name winning (RFC 6265 §5.3).
    let mut kept: Vec<(&str, &str, Option<i64>)> = Vec::new();
    for line in set_cookies.lines() {
        let mut parts = line.split(';');
        let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else { continue };
        let (name, value) = (name.trim(), value.trim());
        if name.is_empty() || (!login.cookies.is_empty() && !login.cookies.contains(&name)) {
            continue;
        }
        // A Max-Age that is no number is ignored (§5.2.2).
        let max_age = parts.filter_map(|a| a.split_once('=')).filter(|(k, _)| k.trim().eq_ignore_ascii_case("max-age")).find_map(|(_, v)| v.trim().parse::<i64>().ok());
        kept.retain(|(n, _, _)| *n != name);
        kept.push((name, value, max_age));
    }
    // A cookie the login deletes (Max-Age 0 or less, or empty) is none.
    kept.retain(|(_, value, max_age)| !value.is_empty() && max_age.is_none_or(|s| s > 0));
    let whole = if login.cookies.is_empty() { !kept.is_empty() } else { login.cookies.iter().all(|c| kept.iter().any(|(n, _, _)| n == c)) };
    let mut jar = String::new();
    let mut values = Vec::new();
    let mut lifetime_s = login.lifetime_s;
    for (name, value, max_age) in &kept {
        if let Some(seconds) = max_age {
            lifetime_s = lifetime_s.min(u32::try_from(*seconds).unwrap_or(u32::MAX));
        }
        if !jar.is_empty() {
            jar.push_str("; ");
        }
        jar.push_str(name);
        jar.push('=');
        jar.push_str(value);
        // A short value (`lang=en`) is no session secret, and as a needle would scrub every
        // occurrence of it from every answer.
        if value.len() >= MIN_COOKIE_SECRET {
            values.push(Secret::new((*value).to_owned()));
        }
    }
    if !whole || crate::header::value_fault(&jar).is_some() {
        drop(Secret::new(jar));
        return Err(Failure::NoSession(status));
    }
    Ok(Obtained { wire: Secret::new(jar), values, lifetime_s: lifetime_s.max(1) })
}

/// The shortest cookie value treated as a credential (scrubbed from answers).
pub const MIN_COOKIE_SECRET: usize = 8;

/// A session's login: its fields (`body`, prepared from their handles) POSTed as a form or JSON.
pub fn login_request(login: &'static Login, body: Secret, origin_override: Option<&str>) -> HttpRequest {
    let url = super::endpoint(login.url, origin_override);
    let media = if login.json { "application/json" } else { "application/x-www-form-urlencoded" };
    HttpRequest {
        method: Method::Post,
        url,
        headers: vec![("content-type", HeaderValue::Static(media))],
        body: Some(crate::body::RequestBody::Secret(body)),
        query_credentials: Vec::new(),
    }
}


#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn a_session_keeps_the_cookies_it_names_and_the_shortest_max_age() {
        static LOGIN: Login = Login {
            url: "https://app.example.com/login",
            json: false,
            fields: &[],
            cookies: &["sid", "xsrf"],
            relogin: &[401, 403],
            wall_type: "",
            wall_marker: "",
            lifetime_s: 3600,
            margin_s: 60,
        };
        let lines = "sid=old; Max-Age=5\nsid=s1CANARY00; Path=/; HttpOnly; Max-Age=600\nother=o; Path=/\nxsrf=x1; Max-Age=soon\ngone=; Max-Age=0";
        let got = read_session(&LOGIN, 302, lines).unwrap();
        assert_eq!(got.wire.expose(), "sid=s1CANARY00; xsrf=x1", "the last of a repeated name wins");
        assert_eq!(got.lifetime_s, 600, "a Max-Age that is no number is ignored");
        let redactor = crate::redact::Redactor::with_shared(Some(Rc::new(got.credentials())));
        assert!(redactor.finds_in("echo s1CANARY00"));
        assert!(!redactor.finds_in("x1 is short: no secret, no needle"));
        assert_eq!(read_session(&LOGIN, 302, "sid=s1").err(), Some(Failure::NoSession(302)), "every named cookie, or none");
        assert_eq!(read_session(&LOGIN, 302, "sid=s1\nxsrf=x; Max-Age=0").err(), Some(Failure::NoSession(302)));
        assert_eq!(read_session(&LOGIN, 401, lines).err(), Some(Failure::Login(401)));
        assert_eq!(read_session(&LOGIN, 0, "").err(), Some(Failure::Login(0)));
        static ALL: Login = Login { cookies: &[], ..LOGIN };
        assert_eq!(read_session(&ALL, 200, "a=1\nb=2; Secure").unwrap().wire.expose(), "a=1; b=2");
        assert_eq!(read_session(&ALL, 200, "").err(), Some(Failure::NoSession(200)));
    }
}
