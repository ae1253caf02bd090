//! The interactive dashboard: terminal setup, the event loop, and carrying out [`Effect`]s.
//!
//! The loop is generic over the ratatui backend and the input stream, so tests drive it with
//! `TestBackend` and a channel of key events.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, Utc};
use crossterm::event::{Event, EventStream};
use futures::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::Backend;
use tokio::sync::mpsc;

use crate::Error;
use crate::app::{App, Effect, Msg, PersonChange};
use crate::client::Client;
use crate::config::Settings;
use crate::hyperlink::{self, LinkOut, Linked};
use crate::leads::LeadRow;
use crate::notify::Notifications;
use crate::poller::{self, PollCommand, PollEvent};
use crate::reach::{self, Opener, Surroundings, SystemOpener};
use crate::{clipboard, export, zone};

/// How often the server is asked what it sends to Meta (the status line's "Meta:" part).
const META_FEEDBACK_INTERVAL: Duration = Duration::from_secs(60);

/// The team's figures (`/api/stats`: the people behind the leads) are asked again once the
/// leads changed, at most this often, so the header's people keep up with its lead counts.
const STATS_MIN_GAP: Duration = Duration::from_secs(5);

/// How often the clock ticks: ages, "synced 2s ago", toasts and notification batches follow it.
const TICK: Duration = Duration::from_millis(250);

/// What the event loop needs from the outside world to carry out effects.
pub struct Services {
    pub client: Client,
    pub poller: mpsc::Sender<PollCommand>,
    /// `None` with `--no-notify`.
    pub notifications: Option<Arc<Notifications>>,
    /// Where `x` writes its CSV files.
    pub export_dir: PathBuf,
    /// What `o`, `w` and `e` hand their addresses to.
    pub opener: Arc<dyn Opener>,
    /// Write OSC 8 links after each frame ([`hyperlink`]).
    pub hyperlinks: bool,
}

/// Runs the dashboard until the user quits or the process is told to stop. The terminal is
/// restored on every exit; ratatui's panic hook restores it on panics too.
pub async fn run(settings: Settings) -> Result<(), Error> {
    tracing::info!(
        "dashboard starts: server {}, interval {:?}, notifications {}",
        settings.server,
        settings.interval,
        if settings.notify { "on" } else { "off" }
    );
    let client = Client::new(&settings);
    let (polls, poller) = poller::spawn::<LeadRow>(client.clone(), settings.interval);
    let services = Services {
        client,
        poller,
        notifications: settings.notify.then(|| Arc::new(Notifications::desktop())),
        export_dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        opener: Arc::new(SystemOpener),
        hyperlinks: hyperlink::enabled(
            settings.hyperlinks,
            io::IsTerminal::is_terminal(&io::stdout()),
            std::env::var("TERM").ok().as_deref(),
        ),
    };
    let (zone, found) = zone::local_zone();
    let mut app =
        App::new(&settings.server, Utc::now(), *Local::now().offset()).with_local_zone(zone, found);
    app.locality = reach::locality(settings.open, Surroundings::of_this_process());
    tracing::info!(
        "hyperlinks {}, opener {:?}",
        if services.hyperlinks { "on" } else { "off" },
        app.locality
    );
    let mut terminal = ratatui::try_init()?;
    let result = tokio::select! {
        result = event_loop(&mut terminal, app, EventStream::new(), polls, services) => result,
        () = terminated() => Ok(()),
    };
    ratatui::restore();
    result
}

/// SIGTERM or SIGHUP (the terminal window closed): leave the same way `q` does.
#[cfg(unix)]
async fn terminated() {
    use tokio::signal::unix::{SignalKind, signal};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) {
        (Ok(mut term), Ok(mut hangup)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = hangup.recv() => {}
            }
        }
        _ => std::future::pending().await,
    }
}

#[cfg(not(unix))]
async fn terminated() {
    std::future::pending().await
}

pub async fn event_loop<B, I>(
    terminal: &mut Terminal<B>,
    mut app: App,
    mut input: I,
    mut polls: mpsc::Receiver<PollEvent<LeadRow>>,
    services: Services,
) -> Result<(), Error>
where
    B: Backend + LinkOut,
    B::Error: Send + Sync + 'static,
    I: Stream<Item = io::Result<Event>> + Unpin,
{
    let (results_tx, mut results) = mpsc::unbounded_channel();
    let mut ticks = tokio::time::interval(TICK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut feedback_ticks = tokio::time::interval(META_FEEDBACK_INTERVAL);
    feedback_ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut stats_asked = (tokio::time::Instant::now(), leads_shape(&app));
    let mut linked = Linked::default();
    loop {
        let frame = terminal
            .draw(|frame| frame.render_widget(&app, frame.area()))
            .map_err(io::Error::other)?;
        let links = services.hyperlinks.then(|| {
            let drawn = app.screen_links.borrow();
            hyperlink::plan(&mut linked, frame.area, &drawn, frame.buffer)
        });
        if let Some(Some(plan)) = links
            && let Err(err) = terminal.backend_mut().write_links(&plan)
        {
            tracing::warn!("could not write the hyperlinks: {err}");
        }
        let msg = tokio::select! {
            _ = ticks.tick() => {
                let shape = leads_shape(&app);
                if shape != stats_asked.1 && stats_asked.0.elapsed() >= STATS_MIN_GAP {
                    services.ask_stats(&app, &results_tx);
                    stats_asked = (tokio::time::Instant::now(), shape);
                }
                Msg::Tick(Utc::now())
            }
            _ = feedback_ticks.tick() => {
                services.ask_outbound_feedback(&results_tx);
                services.ask_stats(&app, &results_tx);
                stats_asked = (tokio::time::Instant::now(), leads_shape(&app));
                continue;
            }
            event = input.next() => match event {
                Some(Ok(Event::Key(key))) => Msg::Key(key),
                // A resize (or anything else) only needs the redraw at the top of the loop.
                Some(Ok(_)) => continue,
                Some(Err(err)) => return Err(err.into()),
                None => return Ok(()),
            },
            Some(event) = polls.recv() => Msg::Poll(event),
            Some(msg) = results.recv() => msg,
        };
        if let Some(effect) = app.update(msg) {
            if effect == Effect::Quit {
                return Ok(());
            }
            services.perform(effect, &app, &results_tx);
        }
    }
}

/// What the team's figures depend on: the leads, the people they make and the junk among them.
fn leads_shape(app: &App) -> (usize, usize, usize) {
    (app.leads.len(), app.leads.people(), app.leads.junk())
}

impl Services {
    /// Asks the server for its Conversions API's and channels' state; the answer comes back as
    /// a [`Msg`].
    fn ask_outbound_feedback(&self, results: &mpsc::UnboundedSender<Msg>) {
        self.request(results, |client| async move {
            Msg::OutboundFeedback(client.outbound_feedback().await)
        });
    }

    /// Asks the server for the team's figures; the answer comes back as a [`Msg`].
    fn ask_stats(&self, app: &App, results: &mpsc::UnboundedSender<Msg>) {
        let tz_offset_minutes = app.tz.local_minus_utc() / 60;
        self.request(results, move |client| async move {
            Msg::Stats(client.stats(tz_offset_minutes).await)
        });
    }

    /// Runs `call` with a client in the background; the message it comes to goes to `results`.
    fn request<F, Call>(&self, results: &mpsc::UnboundedSender<Msg>, call: F)
    where
        F: FnOnce(Client) -> Call,
        Call: Future<Output = Msg> + Send + 'static,
    {
        let results = results.clone();
        let call = call(self.client.clone());
        tokio::spawn(async move {
            // A closed channel means the app is quitting.
            let _ = results.send(call.await);
        });
    }

    /// Starts the work of `effect`; its outcome comes back later as a [`Msg`] on `results`.
    fn perform(&self, effect: Effect, app: &App, results: &mpsc::UnboundedSender<Msg>) {
        match effect {
            Effect::Quit => {}
            Effect::Refresh => {
                // A full queue already holds a refresh.
                let _ = self.poller.try_send(PollCommand::Refresh);
            }
            Effect::Save { id, patch } => self.request(results, move |client| async move {
                let result = client.update_lead(id, &patch).await;
                Msg::Saved { id, result }
            }),
            Effect::Create(lead) => self.request(results, move |client| async move {
                Msg::Created(client.create_lead(&lead).await)
            }),
            Effect::Sync => {
                self.request(
                    results,
                    |client| async move { Msg::Synced(client.sync().await) },
                )
            }
            Effect::Export(ids) => {
                let path = export::path_for(&self.export_dir, app.now, app.tz);
                let columns = app.leads.answer_columns().clone();
                self.request(results, move |client| async move {
                    let written = export::export(&client, ids, &path, columns)
                        .await
                        .map_err(|err| err.to_string());
                    Msg::Exported(written)
                });
            }
            Effect::LoadDetail(id) => self.request(results, move |client| async move {
                let result = client.lead(id).await;
                Msg::Detail { id, result }
            }),
            Effect::Claim { id } => self.request(results, move |client| async move {
                let result = client.claim(id).await;
                Msg::Saved { id, result }
            }),
            Effect::Release { id } => self.request(results, move |client| async move {
                let result = client.release(id).await;
                Msg::Saved { id, result }
            }),
            Effect::LoadMe => {
                self.request(results, |client| async move { Msg::Me(client.me().await) })
            }
            Effect::SetAvailable(available) => self.request(results, move |client| async move {
                Msg::Availability(client.set_available(available).await)
            }),
            Effect::LoadReps => {
                let tz_offset_minutes = app.tz.local_minus_utc() / 60;
                self.request(results, move |client| async move {
                    Msg::Reps(client.reps(tz_offset_minutes).await)
                });
            }
            Effect::LoadActivity(id) => {
                self.request(results, move |client| async move {
                    let result = client.activity(id).await;
                    Msg::Activity { id, result }
                });
                self.request(results, move |client| async move {
                    let result = client.deliveries(id).await;
                    Msg::Deliveries { id, result }
                });
                self.request(results, move |client| async move {
                    let result = client.conversation(id).await;
                    Msg::Conversation { id, result }
                });
            }
            Effect::SetPaging(update) => self.request(results, move |client| async move {
                Msg::PagingSaved(client.update_me(&update).await)
            }),
            Effect::SetTimeZone(zone) => self.request(results, move |client| async move {
                Msg::TimeZoneSet(client.set_time_zone(&zone).await)
            }),
            Effect::SetNextStep { id, step } => self.request(results, move |client| async move {
                let result = client.set_next_step(id, &step).await;
                Msg::Saved { id, result }
            }),
            Effect::ClearNextStep { id } => self.request(results, move |client| async move {
                let result = client.clear_next_step(id).await;
                Msg::Saved { id, result }
            }),
            Effect::Attempt { id, attempt } => self.request(results, move |client| async move {
                let outcome = attempt.outcome;
                let result = client.attempt(id, &attempt).await;
                Msg::Attempted {
                    id,
                    outcome,
                    result,
                }
            }),
            Effect::Person { id, change } => self.request(results, move |client| async move {
                let result = match change {
                    PersonChange::Merge { same_as } => client.merge_person(id, same_as).await,
                    PersonChange::Unlink => client.unlink_person(id).await,
                    PersonChange::ClearJunk => client.clear_junk(id).await,
                };
                Msg::Person { id, change, result }
            }),
            Effect::LoadInsights(params) => self.request(results, move |client| async move {
                let result = client.insights(&params).await;
                Msg::Insights { params, result }
            }),
            Effect::Open { channel, url } => {
                reach::open_aside(Arc::clone(&self.opener), channel, url, results.clone());
            }
            Effect::Copy(text) => {
                if let Err(err) = clipboard::copy(&text) {
                    tracing::warn!("could not write the clipboard sequence: {err}");
                }
            }
            Effect::Notify(notice) => {
                if let Some(notifications) = &self.notifications {
                    let notifications = Arc::clone(notifications);
                    tokio::spawn(async move { notifications.deliver(notice).await });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::FixedOffset;
    use crossterm::event::{KeyCode, KeyEvent};
    use ratatui::backend::TestBackend;

    use super::*;
    use crate::fixtures::row as lead;
    use crate::notify::RecordingNotifier;

    /// The whole loop with a test terminal: a burst of five leads arrives from the poller and
    /// exactly one notification goes out, while the screen shows the toast.
    #[tokio::test]
    async fn a_burst_through_the_event_loop_sends_one_notification() {
        let recorder = Arc::new(RecordingNotifier::default());
        let notifications = Arc::new(Notifications::new(recorder.clone(), Box::new(|| {})));
        let (poll_tx, polls) = mpsc::channel(8);
        let (poller, _commands) = mpsc::channel(1);
        let settings = Settings {
            server: "http://127.0.0.1:9".into(),
            token: None,
            interval: Duration::from_secs(3),
            notify: true,
            hyperlinks: Default::default(),
            open: Default::default(),
        };
        let export_dir = std::env::temp_dir();
        let services = Services {
            client: Client::new(&settings),
            poller,
            notifications: Some(notifications),
            export_dir,
            opener: Arc::new(SystemOpener),
            hyperlinks: true,
        };
        let (keys, input) = futures::channel::mpsc::unbounded();
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
        let app = App::new(
            &settings.server,
            Utc::now(),
            FixedOffset::east_opt(0).expect("UTC"),
        );

        let driver = async {
            let send = |event| poll_tx.send(event);
            send(PollEvent::Leads {
                leads: vec![lead(1, "Already Here", 60)],
                first_load: true,
            })
            .await
            .expect("loop is running");
            send(PollEvent::Synced {
                at: Utc::now(),
                push: false,
            })
            .await
            .expect("loop is running");
            let burst = (10..15)
                .map(|id| lead(id, &format!("Burst {id}"), 0))
                .collect();
            send(PollEvent::Leads {
                leads: burst,
                first_load: false,
            })
            .await
            .expect("loop is running");
            for _ in 0..100 {
                if !recorder.sent().is_empty() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            // Longer than a batch window: a second notification would have gone out by now.
            tokio::time::sleep(Duration::from_millis(800)).await;
            keys.unbounded_send(Ok(Event::Key(KeyEvent::from(KeyCode::Char('q')))))
                .expect("loop is running");
        };
        let (result, ()) = tokio::join!(
            event_loop(&mut terminal, app, input, polls, services),
            driver
        );
        result.expect("loop ends cleanly on q");

        let sent = recorder.sent();
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].summary, "5 new leads");
        let screen = format!("{}", terminal.backend());
        assert!(screen.contains("5 new leads"), "{screen}");
    }
}
