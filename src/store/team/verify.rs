//! `prodcode verify --store`: every device's hash chain on the team store, checked as `verify`
//! checks the local one (same hash, same problem kinds), each against the head its device last
//! pushed (`devices.head_id`, `head_hash`), so events deleted from the end are found too.
//!
//! An event whose payload the device withheld (`[sync] prompts = false`, an opted-out
//! repository) cannot be hashed; its link to the events around it is still checked, so
//! rewriting it together with its hash breaks the next event's link.

use super::super::chain::{self, ChainProblem, GENESIS_HASH, Head};
use super::{TeamError, schema};

/// Rows read per query: the walk holds one page at a time.
const PAGE: i64 = 10_000;

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct DeviceVerification {
    pub device: String,
    /// Events found intact, up to the first problem.
    pub events_checked: u64,
    /// Of those, events whose payload was withheld: only their links were checked.
    pub withheld: u64,
    /// The head the device last pushed.
    pub head_id: i64,
    pub head_hash: String,
    pub problem: Option<ChainProblem>,
}

/// Checks every device's chain; devices in id order.
pub fn verify(client: &mut postgres::Client) -> Result<Vec<DeviceVerification>, TeamError> {
    schema::ensure_readable(client)?;
    let devices = client.query(
        "SELECT device, head_id, head_hash FROM devices ORDER BY device",
        &[],
    )?;
    let mut out = Vec::with_capacity(devices.len());
    for device in devices {
        let name: String = device.get(0);
        let head = Head {
            id: device.get(1),
            hash: device.get(2),
        };
        out.push(verify_device(client, name, head)?);
    }
    Ok(out)
}

fn verify_device(
    client: &mut postgres::Client,
    device: String,
    head: Head,
) -> Result<DeviceVerification, TeamError> {
    let mut previous = Head {
        id: 0,
        hash: GENESIS_HASH.to_owned(),
    };
    let mut events_checked = 0;
    let mut withheld = 0;
    let mut problem = None;
    let statement = client.prepare(
        "SELECT id, ts_ms, source, kind, payload, prev_hash, hash FROM events
         WHERE device = $1 AND id > $2 ORDER BY id LIMIT $3",
    )?;
    'pages: loop {
        let rows = client.query(&statement, &[&device, &previous.id, &PAGE])?;
        if rows.is_empty() {
            break;
        }
        for row in rows {
            let payload: Option<String> = row.get(4);
            let checked = chain::check_fields(
                row.get(0),
                row.get(1),
                row.get(2),
                row.get(3),
                payload.as_deref(),
                row.get(5),
                row.get(6),
                &previous,
            );
            match checked {
                Ok(event) => {
                    previous = event;
                    events_checked += 1;
                    withheld += u64::from(payload.is_none());
                }
                Err(found) => {
                    problem = Some(found);
                    break 'pages;
                }
            }
        }
    }
    let problem = problem.or_else(|| chain::check_end(&previous, &head));
    Ok(DeviceVerification {
        device,
        events_checked,
        withheld,
        head_id: head.id,
        head_hash: head.hash,
        problem,
    })
}
