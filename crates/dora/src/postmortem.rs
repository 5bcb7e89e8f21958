//! Postmortems: Markdown files (`docs/postmortems/*.md`) whose front matter names the
//! incidents, the date, a summary and the corrective actions (owner, due date, status or a
//! tracker link); and the KPIs over them (completion for sev-1/2 incidents within N days,
//! corrective-action closure by due date, repeat incidents per service).
