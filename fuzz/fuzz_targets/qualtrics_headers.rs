//! Qualtrics-style survey exports: a fixed first header row (the columns Qualtrics writes), then
//! the fuzzed bytes as the question-text row, the ImportId row and the responses.
#![no_main]

use hearken_fuzz::{mapping, read_rows};
use hearken_model::RecordKind;
use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] =
    b"StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,\
RecordedDate,ResponseId,RecipientLastName,RecipientFirstName,RecipientEmail,ExternalReference,\
LocationLatitude,LocationLongitude,DistributionChannel,UserLanguage,Q1,Q1_NPS_GROUP,Q2,Q3_TEXT\r\n";

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let mut file = Vec::with_capacity(HEADER.len() + body.len() + 3);
    if sel & 1 == 1 {
        file.extend_from_slice(b"\xef\xbb\xbf");
    }
    file.extend_from_slice(HEADER);
    file.extend_from_slice(body);
    read_rows(
        &file,
        "csv",
        RecordKind::Surveys,
        mapping(sel >> 1, RecordKind::Surveys),
    );
});
