//! Paged lists (`?page=N&per_page=M`, REFERENCE §2.4): read every page until a short one, as
//! the dashboard does. Old servers default to 25 items a page, so a client that reads only
//! the first page silently misses backups; a server that ignores paging must not make the
//! loop run forever either.

use serde::de::DeserializeOwned;

use super::client::{Client, Request};
use super::error::CloudronError;

impl Client {
    /// GET every page of a paged list (`page`, `per_page`) until a short page. A server that
    /// ignores paging (the same first item twice) ends the loop instead of looping forever.
    pub(crate) async fn get_all<W, T>(
        &self,
        path: &[&str],
        what: &str,
        extra: &[(&str, String)],
        items: impl Fn(W) -> Vec<T>,
        id: impl Fn(&T) -> &str,
    ) -> Result<Vec<T>, CloudronError>
    where
        W: DeserializeOwned,
    {
        let per_page = self.page_size;
        let mut all: Vec<T> = Vec::new();
        let mut previous_first: Option<String> = None;
        for page in 1..=100_000u32 {
            let mut query: Vec<(&str, String)> = extra.to_vec();
            query.push(("page", page.to_string()));
            query.push(("per_page", per_page.to_string()));
            let req = Request {
                query: &query,
                ..Request::get(path, what)
            };
            let batch = items(self.json::<W>(&req).await?);
            let first = batch.first().map(|t| id(t).to_string());
            if first.is_some() && first == previous_first {
                break;
            }
            let short = batch.len() < per_page as usize;
            all.extend(batch);
            if short {
                break;
            }
            previous_first = first;
        }
        Ok(all)
    }
}
