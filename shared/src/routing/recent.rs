//! Routes this process looked up lately, so Twilio's fallback URL can answer with a number's
//! own fallback without touching the store (it is called when the store, or this function,
//! failed). Bounded; possibly stale by as long as the process lives, which for a fallback is
//! better than nothing.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::directory::NumberRoute;
use crate::domain::E164;

#[derive(Default)]
pub struct RecentRoutes {
    /// Shared with the request that looked the route up: remembering costs a reference count,
    /// not a copy of the route (a group's member list) on every call.
    routes: Mutex<HashMap<E164, Arc<NumberRoute>>>,
}

impl RecentRoutes {
    const MAX_ROUTES: usize = 1024;

    pub fn remember(&self, route: &Arc<NumberRoute>) {
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(known) = routes.get_mut(&route.phone.phone_number) {
            *known = route.clone();
            return;
        }
        if routes.len() >= Self::MAX_ROUTES {
            routes.clear();
        }
        routes.insert(route.phone.phone_number.clone(), route.clone());
    }

    pub fn get(&self, number: &E164) -> Option<Arc<NumberRoute>> {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        routes.get(number).cloned()
    }
}
