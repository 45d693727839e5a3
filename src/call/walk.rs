//! A call walking pages (`options.pages`): the walk's state ([`crate::pages::Walk`]) and what
//! builds each next page's request — the call's own arguments, re-read, with the walk's params,
//! through the same request builder and the same credentials as its first page.

use crate::args;
use crate::auth::WorkerSecrets;
use crate::error::CallError;
use crate::http::HttpRequest;
use crate::pages::Walk;
use crate::request::{self, Config};
use crate::secret::Secret;
use crate::table::{Operation, Provider};
use crate::value::Value;
use std::rc::Rc;

/// The walk and the inputs of its requests.
#[derive(Debug)]
pub struct Paged {
    pub walk: Walk,
    /// Body bytes read so far across pages: the size limit applies to their sum.
    pub bytes: u64,
    /// Index into the call's tries where the page in flight began (its retries count from there).
    pub page_start: usize,
    args_json: String,
    session: Option<Value>,
    secrets: Rc<WorkerSecrets>,
    origin_override: Option<String>,
    bound_headers: Vec<(&'static str, String)>,
    store_backed: Vec<&'static str>,
    token: Option<Rc<Secret>>,
}

impl Paged {
    /// Keeps what the first page's request was built from (`config` before the builder takes it).
    pub fn new(walk: Walk, args_json: &str, session: Option<Value>, config: &Config<'_>) -> Paged {
        Paged {
            walk,
            bytes: 0,
            page_start: 0,
            args_json: args_json.to_owned(),
            session,
            secrets: Rc::clone(&config.secrets),
            origin_override: config.origin_override.clone(),
            bound_headers: config.bound_headers.iter().map(|(h, v)| (*h, (*v).to_owned())).collect(),
            store_backed: config.store_backed.clone(),
            token: config.token.clone(),
        }
    }

    /// The request for the walk's next page: the call's arguments with the walk's params.
    pub fn request(&self, provider: &'static Provider, op: &'static Operation) -> Result<HttpRequest, CallError> {
        let values = args::parse(&self.args_json)?;
        let mut args = match &self.session {
            None => args::split(op, provider.call_headers, values)?,
            Some(options) => args::split_in_session(op, provider.call_headers, values, options)?,
        };
        args.params = Some(Value::Object(self.walk.params().to_vec()));
        args.binaries = false;
        let config = Config {
            secrets: Rc::clone(&self.secrets),
            origin_override: self.origin_override.clone(),
            bound_headers: self.bound_headers.iter().map(|(h, v)| (*h, v.as_str())).collect(),
            store_backed: self.store_backed.clone(),
            token: self.token.clone(),
            idempotency_key: None,
        };
        Ok(request::build(provider, op, args, config)?.0)
    }
}
