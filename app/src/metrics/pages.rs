//! `/admin/metrics`: open tickets, SLA compliance (7 and 30 days), median first response, satisfaction against
//! its target, tickets per day, the agents' table, today's calls and the CSV export. One resource for the page.

use super::server_fns::{metrics_overview, Overview};
use super::{percent, AgentStats, CallToday, Compliance, DayCount, Satisfaction, Summary, COMPLIANCE_TARGET};
use crate::layout::RequireUser;
use crate::sla::Priority;
use crate::tickets::pages::humanize;
use crate::time::When;
use crate::ui::EmptyState;
use leptos::prelude::*;
use leptos_meta::Title;

/// Where the export form sends its GET (the API accepts the session cookie, so a signed-in manager downloads).
pub const EXPORT_URL: &str = "/api/v1/tickets/export.csv";

#[component]
pub fn MetricsPage() -> impl IntoView {
    view! {
        <Title text="Metrics"/>
        <section class="page metrics-page">
            <RequireUser manager=true>
                <MetricsDashboard/>
            </RequireUser>
        </section>
    }
    .into_any()
}

#[component]
fn MetricsDashboard() -> impl IntoView {
    let overview = Resource::new(|| (), |_| metrics_overview());
    view! {
        <div class="page-head">
            <h1>"Metrics"</h1>
        </div>
        <Transition fallback=|| view! { <p class="loading" aria-live="polite">"Working out the numbers…"</p> }>
            {move || overview.get().map(|result| match result {
                Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                Ok(o) => view! { <Dashboard overview=o/> }.into_any(),
            })}
        </Transition>
    }
    .into_any()
}

#[component]
fn Dashboard(overview: Overview) -> impl IntoView {
    let Overview { week, month } = overview;
    let from = month.per_day.first().map(|d| d.date.clone()).unwrap_or_default();
    let to = month.per_day.last().map(|d| d.date.clone()).unwrap_or_default();
    view! {
        <p class="muted" data-testid="metrics-generated">"As of " <When rfc3339=month.generated_at.clone()/>
            ". Windows are Eastern calendar days up to now (7 days: today and the six days before)."</p>
        <div class="metric-grid" data-testid="metric-cards">
            <OpenCard summary=month.clone()/>
            <ComplianceCard title="First response" week=week.first_response month=month.first_response/>
            <ComplianceCard title="Resolution" week=week.resolution month=month.resolution/>
            <ComplianceCard title="Both targets met" week=week.both_targets month=month.both_targets/>
            <MedianCard week=week.median_first_response_seconds month=month.median_first_response_seconds/>
            <SatisfactionCard week=week.satisfaction month=month.satisfaction/>
        </div>
        <section class="metric-section" aria-labelledby="per-day-heading">
            <h2 id="per-day-heading">"Tickets per day, last 30 days"</h2>
            <DayChart days=month.per_day.clone()/>
        </section>
        <section class="metric-section" aria-labelledby="agents-heading">
            <h2 id="agents-heading">"Agents, last 30 days"</h2>
            <AgentTable agents=month.agents.clone()/>
        </section>
        <section class="metric-section" aria-labelledby="calls-heading">
            <h2 id="calls-heading">"Today's calls"</h2>
            <CallsToday calls=month.calls_today.clone()/>
        </section>
        <section class="metric-section panel" aria-labelledby="export-heading">
            <h2 id="export-heading">"Export tickets"</h2>
            <form method="get" action=EXPORT_URL class="export-form" data-testid="export-form">
                <div class="field">
                    <label for="export-from">"From"</label>
                    <input type="date" id="export-from" name="from" value=from max=to.clone() required=true/>
                </div>
                <div class="field">
                    <label for="export-to">"To"</label>
                    <input type="date" id="export-to" name="to" value=to.clone() max=to required=true/>
                </div>
                <button type="submit" class="button primary">"Download CSV"</button>
            </form>
            <p class="hint">"Tickets opened on these days (Eastern time, both days included; at most 366 days), with their SLA outcome and satisfaction rating."</p>
        </section>
    }
    .into_any()
}

#[component]
fn OpenCard(summary: Summary) -> impl IntoView {
    let open = summary.open_by_priority;
    let total: i64 = Priority::ALL.iter().map(|p| open.get(*p)).sum();
    view! {
        <article class="metric-card" data-testid="open-by-priority">
            <h2>"Open tickets"</h2>
            <p class="metric-big">{total}</p>
            <ul class="priority-counts">
                {Priority::ALL.iter().map(|p| view! {
                    <li>
                        <span class=format!("priority-chip {}", p.as_str().to_lowercase())>{p.as_str()}</span>
                        <strong data-testid=format!("open-{}", p.as_str())>{open.get(*p)}</strong>
                    </li>
                }).collect_view()}
            </ul>
            {(total == 0).then(|| view! { <p class="muted">"Nothing open: every ticket is resolved."</p> })}
        </article>
    }
    .into_any()
}

/// A bar from 0 to 100 % with the target marked; decorative (the numbers are in the text beside it).
#[component]
fn Meter(value: Option<f64>, target: f64) -> impl IntoView {
    let width = value.map(|v| (v * 100.0).clamp(0.0, 100.0)).unwrap_or(0.0);
    let below = value.is_some_and(|v| v < target);
    let mark = format!("{:.1}", target * 100.0);
    view! {
        <svg class="meter" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">
            <rect class="meter-track" x="0" y="0" width="100" height="10"></rect>
            <rect class=if below { "meter-fill below" } else { "meter-fill" } x="0" y="0" width=format!("{width:.1}") height="10"></rect>
            <line class="meter-target" x1=mark.clone() x2=mark y1="0" y2="10"></line>
        </svg>
    }
    .into_any()
}

#[component]
fn ComplianceRow(label: &'static str, value: Compliance) -> impl IntoView {
    let below = value.compliance.is_some_and(|c| c < COMPLIANCE_TARGET);
    view! {
        <div class="metric-row">
            <dt>{label}</dt>
            <dd>
                {match value.compliance {
                    Some(c) => view! {
                        <strong class:below=below>{percent(Some(c))}</strong>
                        " "<span class="muted">{format!("{} met · {} breached", value.met, value.breached)}</span>
                        {below.then(|| view! { " "<span class="below-target">"below target"</span> })}
                    }.into_any(),
                    None => view! { <span class="muted">"No outcomes yet"</span> }.into_any(),
                }}
                <Meter value=value.compliance target=COMPLIANCE_TARGET/>
            </dd>
        </div>
    }
    .into_any()
}

#[component]
fn ComplianceCard(title: &'static str, week: Compliance, month: Compliance) -> impl IntoView {
    view! {
        <article class="metric-card" data-testid=format!("compliance-{}", title.to_lowercase().replace(' ', "-"))>
            <h2>{title}</h2>
            <dl class="metric-rows">
                <ComplianceRow label="7 days" value=week/>
                <ComplianceRow label="30 days" value=month/>
            </dl>
            <p class="muted metric-target">"Target " {percent(Some(COMPLIANCE_TARGET))} " (the line on each bar)"</p>
        </article>
    }
    .into_any()
}

#[component]
fn MedianCard(week: Option<i64>, month: Option<i64>) -> impl IntoView {
    let show = |v: Option<i64>| v.map(humanize).unwrap_or_else(|| "No first responses yet".to_string());
    view! {
        <article class="metric-card" data-testid="median-first-response">
            <h2>"Median first response"</h2>
            <dl class="metric-rows">
                <div class="metric-row"><dt>"7 days"</dt><dd><strong>{show(week)}</strong></dd></div>
                <div class="metric-row"><dt>"30 days"</dt><dd><strong>{show(month)}</strong></dd></div>
            </dl>
            <p class="muted metric-target">"Wall-clock time from opening to the first public reply."</p>
        </article>
    }
}

fn share(good: i64, bad: i64, rate: Option<f64>) -> String {
    match rate {
        Some(_) => format!("{} ({good} of {})", percent(rate), good + bad),
        None => "No answers yet".to_string(),
    }
}

#[component]
fn SatisfactionCard(week: Satisfaction, month: Satisfaction) -> impl IntoView {
    let row = |label: &'static str, s: Satisfaction| {
        let below = s.rate.is_some_and(|r| r < s.target);
        view! {
            <div class="metric-row">
                <dt>{label}</dt>
                <dd>
                    <strong class:below=below>{share(s.good, s.bad, s.rate)}</strong>
                    {below.then(|| view! { " "<span class="below-target">"below target"</span> })}
                    <Meter value=s.rate target=s.target/>
                </dd>
            </div>
        }
    };
    view! {
        <article class="metric-card" data-testid="satisfaction">
            <h2>"Satisfaction"</h2>
            <dl class="metric-rows">
                {row("7 days", week)}
                {row("30 days", month)}
            </dl>
            <p class="muted metric-target">"Target " {percent(Some(month.target))} " good answers"</p>
            <dl class="metric-split">
                <div><dt>"When the SLA was met"</dt><dd>{share(month.sla_met.good, month.sla_met.bad, month.sla_met.rate)}</dd></div>
                <div><dt>"When it was breached"</dt><dd>{share(month.sla_breached.good, month.sla_breached.bad, month.sla_breached.rate)}</dd></div>
            </dl>
        </article>
    }
    .into_any()
}

/// "Jun 4" from "2026-06-04".
fn short_date(date: &str) -> String {
    date.parse::<jiff::civil::Date>().map(|d| d.strftime("%b %-d").to_string()).unwrap_or_else(|_| date.to_string())
}

/// Bars of tickets created and resolved per day, with a few HTML labels (readable at any width) and the numbers
/// in a visually hidden table.
#[component]
fn DayChart(days: Vec<DayCount>) -> impl IntoView {
    let created: i64 = days.iter().map(|d| d.created).sum();
    let resolved: i64 = days.iter().map(|d| d.resolved).sum();
    if created == 0 && resolved == 0 {
        return view! {
            <EmptyState title="No tickets in the last 30 days">
                <p>"Once customers open tickets, a bar per day shows how many came in and how many were resolved."</p>
            </EmptyState>
        }
        .into_any();
    }
    let max = days.iter().map(|d| d.created.max(d.resolved)).max().unwrap_or(1).max(1);
    let slot = 10.0;
    let width = slot * days.len().max(1) as f64;
    let height = 100.0;
    let bar = move |value: i64| (value as f64 / max as f64 * height).max(if value > 0 { 1.5 } else { 0.0 });
    let label = format!(
        "Bar chart of tickets per day over the last {} days: {created} created and {resolved} resolved; the busiest day had {max}.",
        days.len()
    );
    let first = days.first().map(|d| short_date(&d.date)).unwrap_or_default();
    let middle = days.get(days.len() / 2).map(|d| short_date(&d.date)).unwrap_or_default();
    let last = days.last().map(|d| short_date(&d.date)).unwrap_or_default();
    let bars = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = i as f64 * slot;
            let (c, r) = (bar(d.created), bar(d.resolved));
            view! {
                <rect class="bar-created" x=format!("{:.1}", x + 1.0) y=format!("{:.1}", height - c) width="4" height=format!("{c:.1}")></rect>
                <rect class="bar-resolved" x=format!("{:.1}", x + 5.0) y=format!("{:.1}", height - r) width="4" height=format!("{r:.1}")></rect>
            }
        })
        .collect_view();
    view! {
        <figure class="day-chart" data-testid="day-chart">
            <ul class="chart-legend">
                <li><span class="swatch created" aria-hidden="true"></span>"Created"</li>
                <li><span class="swatch resolved" aria-hidden="true"></span>"Resolved"</li>
            </ul>
            <div class="chart-area">
                <span class="chart-max" aria-hidden="true">{max}</span>
                <svg role="img" aria-label=label viewBox=format!("0 0 {width} {height}") preserveAspectRatio="none" class="chart-svg">
                    <line class="chart-grid" x1="0" x2=format!("{width}") y1="0" y2="0"></line>
                    <line class="chart-grid" x1="0" x2=format!("{width}") y1="50" y2="50"></line>
                    <line class="chart-axis" x1="0" x2=format!("{width}") y1="100" y2="100"></line>
                    {bars}
                </svg>
            </div>
            <div class="chart-x" aria-hidden="true">
                <span>{first}</span>
                <span>{middle}</span>
                <span>{last}</span>
            </div>
            <table class="visually-hidden">
                <caption>"Tickets created and resolved per day (Eastern dates)"</caption>
                <thead><tr><th scope="col">"Date"</th><th scope="col">"Created"</th><th scope="col">"Resolved"</th></tr></thead>
                <tbody>
                    {days.into_iter().map(|d| view! {
                        <tr><th scope="row">{d.date}</th><td>{d.created}</td><td>{d.resolved}</td></tr>
                    }).collect_view()}
                </tbody>
            </table>
        </figure>
    }
    .into_any()
}

#[component]
fn AgentTable(agents: Vec<AgentStats>) -> impl IntoView {
    if agents.is_empty() {
        return view! {
            <EmptyState title="No agents yet">
                <p>"Add agents and managers under Users; their open tickets, resolutions and replies show here."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <div class="table-scroll" role="region" aria-labelledby="agents-heading" tabindex="0" data-testid="agents-table">
            <table class="metric-table">
                <thead>
                    <tr>
                        <th scope="col">"Agent"</th>
                        <th scope="col">"Level"</th>
                        <th scope="col" class="num">"Open now"</th>
                        <th scope="col" class="num">"Resolved"</th>
                        <th scope="col" class="num">"Replies"</th>
                        <th scope="col" class="num">"Satisfaction"</th>
                    </tr>
                </thead>
                <tbody>
                    {agents.into_iter().map(|a| view! {
                        <tr>
                            <th scope="row">{a.name.clone()}</th>
                            <td>{a.level.map(|l| l.as_str()).unwrap_or("—")}</td>
                            <td class="num">{a.open_assigned}</td>
                            <td class="num">{a.resolved}</td>
                            <td class="num">{a.replies}</td>
                            <td class="num">{if a.survey_total == 0 {
                                "—".to_string()
                            } else {
                                format!("{} of {} good", a.survey_good, a.survey_total)
                            }}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

#[component]
fn CallsToday(calls: Vec<CallToday>) -> impl IntoView {
    if calls.is_empty() {
        return view! {
            <EmptyState title="No calls today">
                <p>"Calls that Platinum customers book for today appear here."</p>
            </EmptyState>
        }
        .into_any();
    }
    view! {
        <ul class="calls-today" data-testid="calls-today">
            {calls.into_iter().map(|c| view! {
                <li class="call-today">
                    <span class="call-time"><When epoch=c.start_epoch/> " · " {c.duration_minutes} " min"</span>
                    <span class="call-topic">{c.topic.clone()}</span>
                    <span class="muted">{c.customer_name.clone()} " with " {c.agent_name.clone()} " · " {c.platform.label()}</span>
                    <span class=format!("status-chip call-{}", c.status.as_str())>{c.status.as_str()}</span>
                </li>
            }).collect_view()}
        </ul>
    }
    .into_any()
}
