//! What goes into the app ([`Msg`]) and what it wants done outside itself ([`Effect`]).

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use crossterm::event::KeyEvent;
use leadhook_shared::{
    Activity, Attempted, CallOutcome, Conversation, Insights, InsightsParams, Lead, LeadDelivery,
    LeadPatch, Me, MeUpdate, NewAttempt, NewManualLead, NextStep, Rep, Stats, SyncReport,
};

use super::PersonChange;
use crate::client::OutboundFeedback;
use crate::client_error::ClientError;
use crate::leads::LeadRow;
use crate::notify::Notice;
use crate::poller::PollEvent;
use crate::reach::{Channel, OpenError};

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    /// The clock moved on: the only way "now" enters the app.
    Tick(DateTime<Utc>),
    Poll(PollEvent<LeadRow>),
    /// `GET /api/leads/{id}` answered, for the detail pane.
    Detail {
        id: i64,
        result: Result<Lead, ClientError>,
    },
    Saved {
        id: i64,
        result: Result<Lead, ClientError>,
    },
    Created(Result<Lead, ClientError>),
    Synced(Result<SyncReport, ClientError>),
    Exported(Result<(PathBuf, usize), String>),
    /// `GET /api/reps/me` answered.
    Me(Result<Me, ClientError>),
    /// `PUT /api/reps/me` answered.
    Availability(Result<Me, ClientError>),
    /// `PUT /api/reps/me` with the phone settings of `P` answered.
    PagingSaved(Result<Me, ClientError>),
    Reps(Result<Vec<Rep>, ClientError>),
    Activity {
        id: i64,
        result: Result<Vec<Activity>, ClientError>,
    },
    /// A lead's conversation with the person.
    Conversation {
        id: i64,
        result: Result<Conversation, ClientError>,
    },
    /// Where a lead's events went beyond the terminal.
    Deliveries {
        id: i64,
        result: Result<Vec<LeadDelivery>, ClientError>,
    },
    /// The server's Conversions API state, asked now and then.
    OutboundFeedback(Result<OutboundFeedback, ClientError>),
    /// `PUT /api/reps/me {"time_zone": …}` answered.
    TimeZoneSet(Result<Me, ClientError>),
    /// `POST /api/leads/{id}/attempts` answered.
    Attempted {
        id: i64,
        outcome: CallOutcome,
        result: Result<Attempted, ClientError>,
    },
    /// `GET /api/stats` answered, asked now and then.
    Stats(Result<Stats, ClientError>),
    /// A change to lead `id`'s person or junk flag answered.
    Person {
        id: i64,
        change: PersonChange,
        result: Result<Lead, ClientError>,
    },
    /// `GET /api/insights` with `params` answered.
    Insights {
        params: InsightsParams,
        result: Result<Insights, ClientError>,
    },
    /// The system's opener took `url` (of the lead's `channel`), or failed.
    Opened {
        channel: Channel,
        url: String,
        result: Result<(), OpenError>,
    },
}

/// Work the app wants done outside itself.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    /// Poll now.
    Refresh,
    Save {
        id: i64,
        patch: LeadPatch,
    },
    Create(NewManualLead),
    Sync,
    /// Write these leads, in this order, to a CSV file; the runtime fetches them whole.
    Export(Vec<i64>),
    Notify(Notice),
    Claim {
        id: i64,
    },
    Release {
        id: i64,
    },
    LoadMe,
    SetAvailable(bool),
    /// `PUT /api/reps/me` with the rep's phone settings; answers with [`Msg::PagingSaved`].
    SetPaging(MeUpdate),
    LoadReps,
    LoadActivity(i64),
    /// Fetch this lead whole for the detail pane.
    LoadDetail(i64),
    /// Put this text on the user's clipboard (OSC 52).
    Copy(String),
    /// Hand `url`, an address [`crate::reach`] built, to the system's opener; answers with
    /// [`Msg::Opened`] when it fails.
    Open {
        channel: Channel,
        url: String,
    },
    /// Tell the server the rep's IANA time zone.
    SetTimeZone(String),
    /// `PUT` the lead's next step; answers with [`Msg::Saved`].
    SetNextStep {
        id: i64,
        step: NextStep,
    },
    /// `DELETE` the lead's next step; answers with [`Msg::Saved`].
    ClearNextStep {
        id: i64,
    },
    Attempt {
        id: i64,
        attempt: NewAttempt,
    },
    /// Change lead `id`'s person or junk flag; answers with [`Msg::Person`].
    Person {
        id: i64,
        change: PersonChange,
    },
    /// Fetch the insights; answers with [`Msg::Insights`].
    LoadInsights(InsightsParams),
}
