//! The live view of `ui` sinks: one full-screen dashboard for the whole run, drawn on stderr
//! with ratatui.
//!
//! The library only records: each `ui` sink keeps its latest events and its counts in a
//! [`UiHandle`]. This module reads them from a thread of its own, at most [`FPS`] times a
//! second, so the simulation's thread never waits for the terminal. The header's facts
//! (events, rates, open cases) come from the run's [`Progress`]: the dashboard is also an
//! [`Observer`].
//!
//! Keys: `q`, Esc or Ctrl-C stop the run gracefully (the run's stop flag: every sink flushed,
//! a summary, exit 0; pressed again while the run stops, they end the process at once, as a
//! second signal does); `p` pauses the display (not the run); Tab, Shift-Tab and the arrows
//! move between panes.
//!
//! The terminal is restored whatever happens: when the run ends, when the dashboard is dropped
//! (an error return), from a panic hook (before the panic message, so it can be read), and by
//! the signal handler before a second signal ends the process ([`restore_terminal`]).

use def::config::{ConfigSet, Kind, SimulationType, SinkSettings};
use def::simulation::{Observer, PacingStatus, Progress};
use def::sink::{UiEvent, UiHandle};
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui::crossterm::{cursor, execute, terminal};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Sparkline, Table};
use ratatui::{Frame, Terminal};
use std::collections::VecDeque;
use std::io::{BufWriter, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, TryLockError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most redraws per second.
pub const FPS: u32 = 20;
/// How often each pane's rate is sampled for its sparkline.
const SAMPLE_EVERY: Duration = Duration::from_millis(250);
/// Rate samples kept (a minute).
const HISTORY: usize = 240;
/// Each sample's rate is taken over this many sample intervals (a second).
const RATE_WINDOW: usize = 4;
/// The longest the drawing thread waits for a key before it looks at its quit flag.
const QUIT_WITHIN: Duration = Duration::from_millis(10);
/// Below this width per pane, only the focused pane is shown, with a tab line.
const MIN_PANE_WIDTH: u16 = 72;

/// Why the live view cannot be drawn here, if it cannot (then the `ui` sinks print console
/// lines instead).
pub fn refusal(set: &ConfigSet) -> Option<String> {
    if !std::io::stdout().is_terminal() {
        return Some("standard output is not a terminal".into());
    }
    if !std::io::stderr().is_terminal() {
        return Some("standard error is not a terminal".into());
    }
    if std::env::var("TERM").is_ok_and(|t| t == "dumb") {
        return Some("the terminal is `dumb` (TERM=dumb)".into());
    }
    if let Some(console) = set
        .sinks
        .iter()
        .find(|s| matches!(s.spec.settings.value, SinkSettings::Console { .. }))
    {
        return Some(format!(
            "console sink `{}` writes to this terminal too",
            console.name.value
        ));
    }
    // Raw mode needs a terminal to read keys from: try it before the run starts.
    if let Err(e) = terminal::enable_raw_mode().and_then(|()| terminal::disable_raw_mode()) {
        return Some(format!("the terminal cannot take keys ({e})"));
    }
    None
}

/// The names of a config's `ui` sinks.
pub fn ui_sinks(set: &ConfigSet) -> Vec<String> {
    set.sinks
        .iter()
        .filter(|s| matches!(s.spec.settings.value, SinkSettings::Ui))
        .map(|s| s.name.value.clone())
        .collect()
}

// ---- The terminal: entered once, restored exactly once, from wherever. ----

/// True while the terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);
/// Held while a frame is drawn, so that a restore never lands in the middle of one.
static DRAWING: Mutex<()> = Mutex::new(());
static HOOK: std::sync::Once = std::sync::Once::new();

fn enter_terminal() -> std::io::Result<()> {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore_terminal();
            previous(info);
        }));
    });
    terminal::enable_raw_mode()?;
    ACTIVE.store(true, Ordering::SeqCst);
    execute!(
        std::io::stderr(),
        terminal::EnterAlternateScreen,
        cursor::Hide,
        terminal::Clear(terminal::ClearType::All)
    )
}

/// Leaves raw mode and the alternate screen and shows the cursor, if the dashboard had them.
/// Safe to call from any thread, any number of times (a panic hook, a signal handler).
pub fn restore_terminal() {
    // Wait a little for a frame being drawn (not forever: the drawing thread may be the one
    // that panicked, holding the lock).
    let mut guard = None;
    for _ in 0..100 {
        match DRAWING.try_lock() {
            Ok(g) => guard = Some(g),
            Err(TryLockError::Poisoned(p)) => guard = Some(p.into_inner()),
            Err(TryLockError::WouldBlock) => {
                std::thread::sleep(Duration::from_millis(1));
                continue;
            }
        }
        break;
    }
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            std::io::stderr(),
            terminal::LeaveAlternateScreen,
            cursor::Show
        );
        let _ = terminal::disable_raw_mode();
    }
    drop(guard);
}

// ---- The header's facts, as the run reports them. ----

#[derive(Clone, Debug, Default)]
struct Facts {
    events: u64,
    total: Option<u64>,
    open_cases: usize,
    pacing: Option<PacingStatus>,
    frames: Option<u64>,
    /// Generation has ended; the sinks are finishing.
    finishing: bool,
}

#[derive(Debug, Default)]
struct Shared {
    facts: Mutex<Facts>,
    /// Tells the drawing thread to end.
    quit: AtomicBool,
}

impl Shared {
    fn facts(&self) -> Facts {
        self.facts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl Observer for Shared {
    fn progress(&self, p: &Progress<'_>) {
        let mut facts = self.facts.lock().unwrap_or_else(PoisonError::into_inner);
        *facts = Facts {
            events: p.events,
            total: p.total,
            open_cases: p.open_cases,
            pacing: p.pacing,
            frames: p.frames,
            finishing: facts.finishing,
        };
    }

    fn finished(&self) {
        self.facts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .finishing = true;
    }
}

// ---- What one frame shows, as plain data (so tests can draw it). ----

/// Everything one frame of the dashboard shows.
#[derive(Clone, Debug)]
pub struct Screen {
    pub simulation: String,
    pub simulation_type: SimulationType,
    pub elapsed: Duration,
    /// Events generated (as last reported).
    pub events: u64,
    pub total: Option<u64>,
    pub open_cases: usize,
    /// Stream pacing (target and achieved rate, behind).
    pub pacing: Option<PacingStatus>,
    pub frames: Option<u64>,
    pub panes: Vec<PaneView>,
    pub focus: usize,
    pub paused: bool,
    pub stopping: bool,
    pub finishing: bool,
}

/// One `ui` sink's pane.
#[derive(Clone, Debug)]
pub struct PaneView {
    /// The sink's `id` (or its name).
    pub title: String,
    pub total: u64,
    /// Per datasource the sink takes.
    pub counts: Vec<(String, u64)>,
    /// Latest events, oldest first.
    pub recent: Vec<UiEvent>,
    /// Events per second, a sample every [`SAMPLE_EVERY`], oldest first.
    pub rates: Vec<u64>,
}

impl PaneView {
    /// A pane as `handle` shows it now, with up to `keep` events.
    pub fn of(handle: &UiHandle, keep: usize, rates: Vec<u64>) -> PaneView {
        PaneView {
            title: handle.id().to_string(),
            total: handle.total(),
            counts: handle.counts(),
            recent: handle.recent(keep),
            rates,
        }
    }
}

// ---- Drawing. ----

/// Draws `screen` into `frame`.
pub fn draw(frame: &mut Frame<'_>, screen: &Screen) {
    let [header, body, footer] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Min(3),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    draw_header(frame, header, screen);
    draw_panes(frame, body, screen);
    frame.render_widget(
        Paragraph::new(Line::from(vec![
            Span::styled(" q", Style::new().bold()),
            Span::raw("/Esc/Ctrl-C stop the run   "),
            Span::styled("p", Style::new().bold()),
            Span::raw(" pause the display   "),
            Span::styled("Tab", Style::new().bold()),
            Span::raw("/←/→ switch pane"),
        ]))
        .style(Style::new().fg(Color::DarkGray)),
        footer,
    );
}

fn draw_header(frame: &mut Frame<'_>, area: Rect, s: &Screen) {
    let state = if s.stopping {
        Span::styled(" STOPPING ", Style::new().black().on_yellow())
    } else if s.finishing {
        Span::styled(" FINISHING SINKS ", Style::new().black().on_yellow())
    } else if s.paused {
        Span::styled(" PAUSED (p resumes) ", Style::new().black().on_cyan())
    } else {
        Span::styled(" RUNNING ", Style::new().black().on_green())
    };
    let block = Block::bordered()
        .title(Line::from(format!(
            " def run · {} ({}) ",
            s.simulation,
            s.simulation_type.name()
        )))
        .title_top(Line::from(state).right_aligned());
    let events = match s.total {
        Some(total) if total > 0 => format!(
            "{} of {} ({:.0}%)",
            thousands(s.events),
            thousands(total),
            s.events as f64 * 100.0 / total as f64
        ),
        _ => thousands(s.events),
    };
    let first = Line::from(vec![
        Span::raw("events "),
        Span::styled(events, Style::new().bold()),
        Span::raw("   elapsed "),
        Span::styled(clock(s.elapsed), Style::new().bold()),
        Span::raw("   open cases "),
        Span::styled(thousands(s.open_cases as u64), Style::new().bold()),
    ]);
    let average = s.events as f64 / s.elapsed.as_secs_f64().max(1e-9);
    let second = match (s.simulation_type, s.pacing) {
        (SimulationType::Stream, Some(p)) => Line::from(vec![
            Span::raw("target "),
            Span::styled(rate(p.target_rate), Style::new().bold()),
            Span::raw("   achieved "),
            Span::styled(
                rate(p.achieved_rate),
                if p.behind > 0 {
                    Style::new().bold().yellow()
                } else {
                    Style::new().bold()
                },
            ),
            Span::raw(format!(
                "   behind {} ({:.2} s)",
                thousands(p.behind),
                p.lag.as_secs_f64()
            )),
        ]),
        (SimulationType::Stream, None) => Line::from("target: as the load says   achieved: -"),
        (SimulationType::LoadTest, _) => Line::from(vec![
            Span::raw("target: as fast as possible (frames for a backend)   achieved "),
            Span::styled(rate(average), Style::new().bold()),
            Span::raw(format!("   frames {}", thousands(s.frames.unwrap_or(0)))),
        ]),
        (SimulationType::CountBased, _) => Line::from(vec![
            Span::raw("target: as fast as possible   achieved "),
            Span::styled(rate(average), Style::new().bold()),
        ]),
    };
    frame.render_widget(Paragraph::new(vec![first, second]).block(block), area);
}

fn draw_panes(frame: &mut Frame<'_>, area: Rect, s: &Screen) {
    if s.panes.is_empty() {
        return;
    }
    let n = s.panes.len() as u16;
    if n == 1 || area.width / n >= MIN_PANE_WIDTH {
        let areas = Layout::horizontal((0..n).map(|_| Constraint::Ratio(1, n.into()))).split(area);
        for (i, (pane, &pane_area)) in s.panes.iter().zip(areas.iter()).enumerate() {
            draw_pane(frame, pane_area, pane, i == s.focus);
        }
        return;
    }
    // Too narrow for all: a tab line and the focused pane.
    let [tabs, rest] = Layout::vertical([Constraint::Length(1), Constraint::Min(1)]).areas(area);
    let mut spans = Vec::new();
    for (i, pane) in s.panes.iter().enumerate() {
        let style = if i == s.focus {
            Style::new().black().on_cyan().bold()
        } else {
            Style::new()
        };
        spans.push(Span::styled(format!(" {} ", pane.title), style));
        spans.push(Span::raw(" "));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
    if let Some(pane) = s.panes.get(s.focus) {
        draw_pane(frame, rest, pane, true);
    }
}

fn draw_pane(frame: &mut Frame<'_>, area: Rect, pane: &PaneView, focused: bool) {
    let border = if focused {
        Style::new().cyan()
    } else {
        Style::new().dark_gray()
    };
    let block = Block::bordered()
        .border_style(border)
        .title(Line::from(format!(" {} ", pane.title)).bold())
        .title_top(Line::from(format!(" {} events ", thousands(pane.total))).right_aligned());
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let [top, spark] = Layout::vertical([Constraint::Min(3), Constraint::Length(5)]).areas(inner);
    let counts_width = pane
        .counts
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(10)
        .clamp(10, 24) as u16
        + 14;
    let [events, counts] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(counts_width)]).areas(top);
    draw_events(frame, events, pane);
    draw_counts(frame, counts, pane);
    draw_rate(frame, spark, pane);
}

fn draw_events(frame: &mut Frame<'_>, area: Rect, pane: &PaneView) {
    let rows_fit = area.height.saturating_sub(1) as usize;
    let shown = &pane.recent[pane.recent.len().saturating_sub(rows_fit)..];
    let time_width = shown.iter().map(|e| e.timestamp.len()).max().unwrap_or(19) as u16;
    let node_width = shown
        .iter()
        .map(|e| e.node.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(4, 20) as u16;
    let rows = shown.iter().map(|e| {
        Row::new(vec![
            Cell::from(e.timestamp.as_str()),
            Cell::from(format!("case_{}", e.case)),
            Cell::from(e.node.as_str()),
            Cell::from(e.activity.as_str()),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(time_width),
            Constraint::Length(11),
            Constraint::Length(node_width),
            Constraint::Fill(1),
        ],
    )
    .header(
        Row::new(vec!["time", "case", "node", "activity"])
            .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
    );
    frame.render_widget(table, area);
}

fn draw_counts(frame: &mut Frame<'_>, area: Rect, pane: &PaneView) {
    let rows = pane.counts.iter().map(|(name, n)| {
        Row::new(vec![
            Cell::from(name.as_str()),
            Cell::from(Line::from(thousands(*n)).right_aligned()),
        ])
    });
    let table = Table::new(rows, [Constraint::Fill(1), Constraint::Length(12)])
        .header(
            Row::new(vec![
                Cell::from("datasource"),
                Cell::from(Line::from("events").right_aligned()),
            ])
            .style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
        )
        .block(Block::new().borders(ratatui::widgets::Borders::LEFT));
    frame.render_widget(table, area);
}

fn draw_rate(frame: &mut Frame<'_>, area: Rect, pane: &PaneView) {
    let now = pane.rates.last().copied().unwrap_or(0);
    let block = Block::new()
        .borders(ratatui::widgets::Borders::TOP)
        .title(format!(" rate {} ", rate(now as f64)));
    let width = block.inner(area).width as usize;
    let data = &pane.rates[pane.rates.len().saturating_sub(width)..];
    frame.render_widget(
        Sparkline::default()
            .block(block)
            .data(data)
            .style(Style::new().green()),
        area,
    );
}

/// `1234567` as `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Events per second, short.
fn rate(r: f64) -> String {
    if r >= 1e6 {
        format!("{:.2} M/s", r / 1e6)
    } else if r >= 1e4 {
        format!("{:.1} k/s", r / 1e3)
    } else {
        format!("{r:.0}/s")
    }
}

/// `01:02:03.4`.
fn clock(d: Duration) -> String {
    let tenths = d.as_millis() / 100;
    let secs = tenths / 10;
    format!(
        "{:02}:{:02}:{:02}.{}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60,
        tenths % 10
    )
}

// ---- The drawing thread and its state. ----

struct Pane {
    handle: UiHandle,
    rates: VecDeque<u64>,
    /// The last [`RATE_WINDOW`] samples' totals, for a steady rate at low event rates.
    totals: VecDeque<(Instant, u64)>,
}

/// What the drawing thread keeps between frames.
struct View {
    simulation: String,
    simulation_type: SimulationType,
    started: Instant,
    panes: Vec<Pane>,
    last_sample: Instant,
    focus: usize,
    paused: Option<Screen>,
    stopping: bool,
}

impl View {
    fn sample(&mut self, now: Instant) {
        let secs = (now - self.last_sample).as_secs_f64();
        if secs < SAMPLE_EVERY.as_secs_f64() {
            return;
        }
        self.last_sample = now;
        for pane in &mut self.panes {
            let total = pane.handle.total();
            if pane.totals.len() > RATE_WINDOW {
                pane.totals.pop_front();
            }
            pane.totals.push_back((now, total));
            let (since, before) = pane.totals.front().copied().unwrap_or((now, total));
            let secs = (now - since).as_secs_f64().max(1e-3);
            let per_second = ((total - before) as f64 / secs).round() as u64;
            if pane.rates.len() == HISTORY {
                pane.rates.pop_front();
            }
            pane.rates.push_back(per_second);
        }
    }

    fn screen(&self, facts: &Facts, rows: u16) -> Screen {
        let keep = rows as usize;
        Screen {
            simulation: self.simulation.clone(),
            simulation_type: self.simulation_type,
            elapsed: self.started.elapsed(),
            events: facts.events,
            total: facts.total,
            open_cases: facts.open_cases,
            pacing: facts.pacing,
            frames: facts.frames,
            panes: self
                .panes
                .iter()
                .map(|p| PaneView::of(&p.handle, keep, p.rates.iter().copied().collect()))
                .collect(),
            focus: self.focus,
            paused: false,
            stopping: self.stopping,
            finishing: facts.finishing,
        }
    }

    /// Handles a key; true if it asks to pause or resume the display.
    fn key(&mut self, key: KeyEvent, stop: &AtomicBool) -> bool {
        if key.kind != KeyEventKind::Press {
            return false;
        }
        let n = self.panes.len().max(1);
        let ctrl_c =
            key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('q') | KeyCode::Esc => self.quit(stop),
            _ if ctrl_c => self.quit(stop),
            KeyCode::Char('p') => return true,
            KeyCode::Tab | KeyCode::Right | KeyCode::Down => self.focus = (self.focus + 1) % n,
            KeyCode::BackTab | KeyCode::Left | KeyCode::Up => self.focus = (self.focus + n - 1) % n,
            _ => {}
        }
        false
    }

    fn quit(&mut self, stop: &AtomicBool) {
        if stop.swap(true, Ordering::SeqCst) && self.stopping {
            // Asked twice: as a second signal does, end at once.
            restore_terminal();
            say!(
                "def: stopped at once on a second stop; events the sinks had not yet written \
                 out may be missing"
            );
            std::process::exit(130);
        }
        self.stopping = true;
    }
}

/// The running dashboard.
pub struct Dashboard {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl Dashboard {
    /// Takes over the terminal and starts drawing `panes` (sink name, handle), in order.
    /// `stop` is the run's stop flag, which `q` sets.
    ///
    /// # Errors
    /// The terminal cannot be put into raw mode or its alternate screen.
    pub fn start(
        panes: Vec<(String, UiHandle)>,
        simulation: &str,
        simulation_type: SimulationType,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<Dashboard> {
        enter_terminal().inspect_err(|_| restore_terminal())?;
        let shared = Arc::new(Shared::default());
        let now = Instant::now();
        let view = View {
            simulation: simulation.to_string(),
            simulation_type,
            started: now,
            panes: panes
                .into_iter()
                .map(|(_, handle)| Pane {
                    totals: VecDeque::from([(now, handle.total())]),
                    handle,
                    rates: VecDeque::with_capacity(HISTORY),
                })
                .collect(),
            last_sample: now,
            focus: 0,
            paused: None,
            stopping: false,
        };
        let thread_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("def-dashboard".into())
            .spawn(move || draw_loop(&thread_shared, view, &stop))
            .inspect_err(|_| restore_terminal())?;
        Ok(Dashboard {
            shared,
            thread: Some(thread),
        })
    }

    /// The observer that feeds the header.
    pub fn observer(&self) -> Arc<dyn Observer> {
        self.shared.clone()
    }

    /// Stops drawing and gives the terminal back.
    pub fn close(mut self) {
        self.shut();
    }

    fn shut(&mut self) {
        self.shared.quit.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore_terminal();
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.shut();
    }
}

fn draw_loop(shared: &Shared, mut view: View, stop: &AtomicBool) {
    let out = BufWriter::with_capacity(1 << 16, std::io::stderr());
    let Ok(mut terminal) = Terminal::new(CrosstermBackend::new(out)) else {
        return;
    };
    let frame_every = Duration::from_secs(1) / FPS;
    let mut next_frame = Instant::now();
    while !shared.quit.load(Ordering::SeqCst) {
        let wait = next_frame.saturating_duration_since(Instant::now());
        // Keys as they come; at most one frame per `frame_every`; `quit` seen within 10 ms.
        if event::poll(wait.min(QUIT_WITHIN)).unwrap_or(false) {
            if let Ok(Event::Key(key)) = event::read() {
                if view.key(key, stop) {
                    view.paused = match view.paused.take() {
                        Some(_) => None,
                        None => {
                            // Freeze what the screen shows now.
                            let rows = terminal.size().map_or(50, |s| s.height);
                            let mut frozen = view.screen(&shared.facts(), rows);
                            frozen.paused = true;
                            Some(frozen)
                        }
                    };
                }
                next_frame = Instant::now();
            }
            continue;
        }
        let now = Instant::now();
        if now < next_frame {
            continue;
        }
        next_frame = now + frame_every;
        view.sample(now);
        let rows = terminal.size().map_or(50, |s| s.height);
        let screen = match &view.paused {
            Some(frozen) => {
                let mut s = frozen.clone();
                s.focus = view.focus;
                s.stopping = view.stopping;
                s
            }
            None => view.screen(&shared.facts(), rows),
        };
        let _drawing = DRAWING.lock().unwrap_or_else(PoisonError::into_inner);
        if !ACTIVE.load(Ordering::SeqCst) {
            return;
        }
        if terminal.draw(|f| draw(f, &screen)).is_err() {
            return;
        }
    }
    let _ = terminal.backend_mut().flush();
}

#[cfg(test)]
mod tests {
    use super::*;
    use def::engine::Engine;
    use def::model::Chain;
    use def::sink::RECENT;
    use def::sink::{Sink, UiSink};
    use ratatui::backend::TestBackend;

    fn screen_of(panes: Vec<PaneView>) -> Screen {
        Screen {
            simulation: "stream-sim".into(),
            simulation_type: SimulationType::Stream,
            elapsed: Duration::from_millis(83_400),
            events: 1_234_567,
            total: None,
            open_cases: 12,
            pacing: Some(PacingStatus {
                target_rate: 1000.0,
                achieved_rate: 998.0,
                behind: 0,
                lag: Duration::ZERO,
            }),
            frames: None,
            panes,
            focus: 0,
            paused: false,
            stopping: false,
            finishing: false,
        }
    }

    /// A `ui` sink fed `n` events of the bundled example, as the dashboard sees it.
    fn pane(id: &str, refs: &[&str], n: usize) -> (PaneView, Vec<(u64, String, String)>) {
        let chain = Chain::compile(&ConfigSet::example()).unwrap();
        let refs: Vec<String> = refs.iter().map(|r| r.to_string()).collect();
        let (mut sink, handle) =
            UiSink::new(id, &chain, &refs, def::config::TimestampFormat::Original);
        let mut engine = Engine::new(&chain, 5, 1_735_689_600_000, 5);
        let mut taken = Vec::new();
        while taken.len() < n {
            if taken.len() + RECENT == n + 1 {
                // As the dashboard does before its frames: ask for the events to come, so
                // that the last ones written are those recorded.
                handle.recent(0);
            }
            let e = engine.next_event();
            if refs.iter().any(|r| r == e.node.name.as_str()) {
                taken.push((
                    e.case,
                    e.node.name.as_str().to_string(),
                    e.activity().to_string(),
                ));
                sink.write(&e).unwrap();
            }
        }
        (
            PaneView::of(&handle, usize::MAX, vec![100, 200, 300, 400]),
            taken,
        )
    }

    fn render(screen: &Screen, width: u16, height: u16) -> Vec<String> {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|f| draw(f, screen)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..height)
            .map(|y| {
                (0..width)
                    .map(|x| buffer[(x, y)].symbol().to_string())
                    .collect::<String>()
            })
            .collect()
    }

    fn find<'a>(lines: &'a [String], text: &str) -> &'a str {
        lines
            .iter()
            .find(|l| l.contains(text))
            .unwrap_or_else(|| panic!("no `{text}` on the screen:\n{}", lines.join("\n")))
    }

    #[test]
    fn a_pane_shows_its_title_latest_events_and_counts() {
        let (p, taken) = pane("UI", &["Assembling", "Packaging", "Shipping"], 500);
        let screen = screen_of(vec![p.clone()]);
        let lines = render(&screen, 160, 45);
        // The header.
        find(&lines, "def run · stream-sim (stream)");
        find(&lines, "events 1,234,567");
        find(&lines, "elapsed 00:01:23.4");
        find(&lines, "open cases 12");
        find(&lines, "target 1000/s");
        find(&lines, "achieved 998/s");
        find(&lines, "RUNNING");
        // The pane: its title, its total, the newest event on the last row of the table.
        let title = find(&lines, " UI ");
        assert!(title.contains("500 events"), "{title}");
        // The events table: a header, then the latest events, newest last, as many as fit.
        let header = lines
            .iter()
            .position(|l| l.contains("time") && l.contains("activity"));
        let header = header.unwrap_or_else(|| panic!("no table header:\n{}", lines.join("\n")));
        let rows: Vec<&String> = lines[header + 1..]
            .iter()
            .take_while(|l| l.contains("case_"))
            .collect();
        assert!(
            rows.len() >= 30,
            "{} rows:\n{}",
            rows.len(),
            lines.join("\n")
        );
        for (row, (case, node, activity)) in rows.iter().rev().zip(taken.iter().rev()) {
            for part in [format!("case_{case} "), node.clone(), activity.clone()] {
                assert!(row.contains(&part), "`{part}` not in `{row}`");
            }
        }
        // Counts per datasource, exact, in their own column.
        let column = lines[header].find("datasource").expect("a counts column");
        let column = lines[header][..column].chars().count();
        for (i, (name, n)) in p.counts.iter().enumerate() {
            let expected = taken.iter().filter(|t| &t.1 == name).count() as u64;
            assert_eq!(*n, expected);
            let row: String = lines[header + 1 + i].chars().skip(column).collect();
            assert!(row.starts_with(name.as_str()), "{name}: `{row}`");
            assert!(row.contains(&thousands(*n)), "{name} {n}: `{row}`");
        }
        find(&lines, "rate 400/s");
        find(&lines, "q/Esc/Ctrl-C stop the run");
    }

    #[test]
    fn several_panes_side_by_side_or_as_tabs_when_narrow() {
        let (a, _) = pane("Left", &["Assembling"], 50);
        let (b, _) = pane("Right", &["Shipping"], 60);
        let mut screen = screen_of(vec![a, b]);
        let wide = render(&screen, 160, 30);
        let titles = find(&wide, " Left ");
        assert!(titles.contains(" Right "), "{titles}");
        screen.focus = 1;
        screen.paused = true;
        let narrow = render(&screen, 100, 30);
        find(&narrow, "PAUSED");
        // A tab line with both, and only the focused pane drawn.
        let tabs = find(&narrow, " Left ");
        assert!(tabs.contains(" Right "), "{tabs}");
        find(&narrow, "60 events");
        assert!(!narrow.iter().any(|l| l.contains("50 events")));
    }

    #[test]
    fn count_based_runs_show_how_far_they_are() {
        let (p, _) = pane("UI", &["Assembling"], 10);
        let mut screen = screen_of(vec![p]);
        screen.simulation_type = SimulationType::CountBased;
        screen.pacing = None;
        screen.events = 250_000;
        screen.total = Some(1_000_000);
        screen.stopping = true;
        let lines = render(&screen, 120, 24);
        find(&lines, "events 250,000 of 1,000,000 (25%)");
        find(&lines, "target: as fast as possible");
        find(&lines, "STOPPING");
    }

    #[test]
    fn numbers_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(12_345_678), "12,345,678");
        assert_eq!(rate(12.4), "12/s");
        assert_eq!(rate(45_600.0), "45.6 k/s");
        assert_eq!(rate(12_340_000.0), "12.34 M/s");
        assert_eq!(clock(Duration::from_millis(3_723_456)), "01:02:03.4");
    }
}
