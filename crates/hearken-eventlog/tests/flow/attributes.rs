//! What the readers keep of a case: XES trace attributes, the case properties Hearken knows under
//! their synonyms (customer, product, segment, channel), `org:role` as the team when there is no
//! `org:group`, CSV case columns, and the names of what they do not keep.

use hearken_eventlog::{ReadOptions, read_bytes, read_path};
use hearken_flow::{EventLog, NONE};

use crate::helpers::data;

fn values(log: &EventLog, column: &str) -> Vec<Option<String>> {
    let col = log
        .attribute(column)
        .unwrap_or_else(|| panic!("no column {column}"));
    col.codes
        .iter()
        .map(|&c| col.dict.name(c).map(str::to_string))
        .collect()
}

fn names(v: &[Option<String>]) -> Vec<&str> {
    v.iter().map(|x| x.as_deref().unwrap_or("-")).collect()
}

const XES: &str = r#"<log>
  <trace>
    <string key="concept:name" value="t1"/>
    <string key="channel" value="phone"/>
    <string key="case:department" value="billing"/>
    <event>
      <string key="concept:name" value="open"/>
      <date key="time:timestamp" value="2024-01-01T10:00:00Z"/>
      <string key="org:resource" value="ann"/>
      <string key="org:role" value="L1"/>
      <string key="Customer_ID" value="C7"/>
      <string key="priority" value="high"/>
    </event>
    <event>
      <string key="concept:name" value="escalate"/>
      <date key="time:timestamp" value="2024-01-01T11:00:00Z"/>
      <string key="org:role" value="L1"/>
      <string key="org:group" value="second line"/>
      <string key="priority" value="low"/>
      <string key="channel" value="chat"/>
    </event>
  </trace>
  <trace>
    <string key="concept:name" value="t2"/>
    <event>
      <string key="concept:name" value="open"/>
      <date key="time:timestamp" value="2024-01-02T10:00:00Z"/>
      <string key="product" value="router"/>
    </event>
  </trace>
</log>"#;

#[test]
fn xes_keeps_trace_attributes_and_case_properties() {
    let opts = ReadOptions {
        keep_positions: true,
        ..ReadOptions::default()
    };
    let (log, q) = read_bytes("t.xes", XES.as_bytes(), &opts).unwrap();
    assert!(q.is_empty(), "{q:?}");
    assert_eq!(log.len(), 3);
    // A trace attribute is on every event of its trace; an event's own value wins.
    assert_eq!(
        names(&values(&log, "channel")),
        ["phone", "chat", "-"],
        "trace attribute, event value wins"
    );
    assert_eq!(
        names(&values(&log, "department")),
        ["billing", "billing", "-"]
    );
    // Customer_ID is the customer; product is kept without asking.
    assert_eq!(names(&values(&log, "customer")), ["C7", "-", "-"]);
    assert_eq!(names(&values(&log, "product")), ["-", "-", "router"]);
    // org:role is the team only where no org:group is given.
    let teams: Vec<Option<&str>> = log
        .team_codes()
        .iter()
        .map(|&t| log.team_dict().name(t))
        .collect();
    assert_eq!(teams, [Some("L1"), Some("second line"), None]);
    assert_eq!(log.unkept_attributes(), ["priority"]);
    // Positions are the byte offsets of the <event> tags, in order.
    let pos = log.positions();
    assert_eq!(pos.len(), 3);
    for (p, nth) in pos.iter().zip(0..) {
        let at = XES.match_indices("<event>").nth(nth).unwrap().0 as u64;
        assert!(*p <= at && at - *p < 8, "{p} vs {at}");
    }
    // Asked for, an event attribute is kept too.
    let asked = ReadOptions {
        attributes: vec!["priority".into()],
        ..ReadOptions::default()
    };
    let (log, _) = read_bytes("t.xes", XES.as_bytes(), &asked).unwrap();
    assert_eq!(names(&values(&log, "priority")), ["high", "low", "-"]);
    assert!(log.unkept_attributes().is_empty());
}

#[test]
fn real_logs_keep_their_case_attributes() {
    let (receipt, _) = read_path(&data("receipt.xes.gz"), &ReadOptions::default()).unwrap();
    for a in ["channel", "department", "responsible", "group"] {
        let col = receipt.attribute(a).unwrap_or_else(|| panic!("{a}"));
        let with = col.codes.iter().filter(|&&c| c != NONE).count();
        // Every trace has a channel and a department; some lack a group.
        let every = matches!(a, "channel" | "department");
        assert!(
            with > 3_000 && (!every || with == receipt.len()),
            "{a}: {with}"
        );
    }
    // Date trace attributes (one value per case) are named, not kept.
    assert!(receipt.attribute("deadline").is_none());
    for a in [
        "deadline",
        "enddate",
        "concept:instance",
        "lifecycle:transition",
    ] {
        assert!(
            receipt.unkept_attributes().iter().any(|u| u == a),
            "{a} in {:?}",
            receipt.unkept_attributes()
        );
    }
    let (csv, _) = read_path(&data("receipt.csv.gz"), &ReadOptions::default()).unwrap();
    for a in ["channel", "department", "responsible", "group"] {
        assert_eq!(values(&csv, a), values(&receipt, a), "{a}: CSV as XES");
    }
    let (helpdesk, _) = read_path(&data("helpdesk.xes.gz"), &ReadOptions::default()).unwrap();
    assert!(helpdesk.attribute("customer").is_some() && helpdesk.attribute("product").is_some());
    assert!(helpdesk.attribute("segment").is_none());
    assert!(
        helpdesk
            .unkept_attributes()
            .contains(&"workgroup".to_string())
    );
}

#[test]
fn csv_case_columns_are_kept() {
    let csv = "case_id,at,activity,agent_id,org:role,customer_id,product_id,segment,case:channel,note\n\
               K1,2024-01-01T10:00:00Z,new,a1,L1,C1,P1,smb,phone,x\n\
               K1,2024-01-01T11:00:00Z,closed,a2,L2,C1,P1,smb,phone,y\n\
               K2,2024-01-02T10:00:00Z,new,,,C2,,enterprise,,\n";
    let opts = ReadOptions {
        keep_positions: true,
        ..ReadOptions::default()
    };
    let (log, q) = read_bytes("t.csv", csv.as_bytes(), &opts).unwrap();
    assert!(q.is_empty(), "{q:?}");
    assert_eq!(names(&values(&log, "customer")), ["C1", "C1", "C2"]);
    assert_eq!(names(&values(&log, "product")), ["P1", "P1", "-"]);
    assert_eq!(
        names(&values(&log, "segment")),
        ["smb", "smb", "enterprise"]
    );
    assert_eq!(names(&values(&log, "channel")), ["phone", "phone", "-"]);
    assert_eq!(log.team_dict().names().collect::<Vec<_>>(), ["L1", "L2"]);
    assert_eq!(log.unkept_attributes(), ["note"]);
    assert_eq!(log.positions(), [2, 3, 4]);
}

#[test]
fn zendesk_tickets_carry_their_channel() {
    let (log, _) = read_path(&data("zendesk_ticket_events.json"), &ReadOptions::default()).unwrap();
    let channel = values(&log, "channel");
    assert!(channel.iter().all(Option::is_some), "{channel:?}");
    assert_eq!(names(&channel)[0], "Web form");
    let one = r#"{"ticket_id": 9, "timestamp": 1700000000, "via": {"channel": "email"},
        "child_events": [{"status": "new", "requester_id": 555}]}"#;
    let (log, _) = read_bytes("x.json", one.as_bytes(), &ReadOptions::default()).unwrap();
    assert_eq!(names(&values(&log, "channel")), ["email"]);
    assert_eq!(names(&values(&log, "customer")), ["555"]);
}
