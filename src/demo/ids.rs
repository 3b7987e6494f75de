//! The fixed ids of the demo objects the spec's examples name, so that every documented
//! example works against the demo data as it is (see `crate::api::examples`). Everything
//! else in the demo gets a new UUIDv7 like any other object.

use std::future::Future;

use uuid::Uuid;

use crate::db::ids::{Kind, planned};

const fn id(n: u128) -> Uuid {
    Uuid::from_u128(0x0193a4d2_7c1e_7b35_9a51_3f0c2b9e0000 | n)
}

/// Zorgnet Kempen, where Jonas Claes is the organisation's admin and Mira Peeters works.
pub const ZORGNET: Uuid = id(0x8d12);
/// Leerpunt Demer: an organisation without members or events (the one to delete).
pub const LEERPUNT: Uuid = id(0x8f01);
/// Mira Peeters (member, employee at Zorgnet Kempen) and her membership there.
pub const MIRA: Uuid = id(0x8d11);
pub const MIRA_AT_ZORGNET: Uuid = id(0x8d13);
/// Jonas Claes (Zorgnet Kempen's admin), co-author of the tandem-learning solution.
pub const JONAS: Uuid = id(0x8d31);
/// Zorgnet Kempen's HR staff synced by `sdworx`: `EMP-00042` (Ann Hermans), `EMP-00043`
/// (Bert Smets), `EMP-00044` (Chris Wuyts).
pub const ANN: Uuid = id(0x8f11);
pub const BERT: Uuid = id(0x8f12);
pub const CHRIS: Uuid = id(0x8f13);
/// Dirk Peeters, whom a facilitator erases; Eva Wouters, who erases herself; Fien Aerts, who
/// changes her password; Gert Jacobs, whose membership of Zorgnet Kempen ends.
pub const DIRK: Uuid = id(0x8f14);
pub const EVA: Uuid = id(0x8f15);
pub const FIEN: Uuid = id(0x8f16);
pub const GERT: Uuid = id(0x8f17);
pub const GERT_AT_ZORGNET: Uuid = id(0x8f27);
/// Zorgnet Kempen's second integration client (reporting), whose secret is rotated or revoked.
pub const REPORTING_CLIENT: Uuid = id(0x8f31);
/// A theme no event, solution or record uses.
pub const UNUSED_THEME: Uuid = id(0x8f41);
/// The feedback intervision Zorgnet Kempen organises (published, ahead), and Mira's and
/// Sofie's registrations for it.
pub const FEEDBACK_INTERVISION: Uuid = id(0x8d21);
pub const MIRA_FOR_FEEDBACK: Uuid = id(0x8f51);
pub const SOFIE_FOR_FEEDBACK: Uuid = id(0x8f52);
/// A draft event of Zorgnet Kempen (the one to delete).
pub const DRAFT_EVENT: Uuid = id(0x8f22);
/// Karim's and Tom's registrations for the HR learning network (completed): confirmed, not
/// yet checked in.
pub const KARIM_AT_HR_NETWORK: Uuid = id(0x8f53);
pub const TOM_AT_HR_NETWORK: Uuid = id(0x8f54);
/// The 55+ intervision (completed), Mira's attendance and commitment there, and Pieter's.
pub const INTERVISION_55: Uuid = id(0x8f24);
pub const MIRA_AT_INTERVISION_55: Uuid = id(0x8f55);
pub const MIRA_COMMITMENT: Uuid = id(0x8f61);
pub const PIETER_COMMITMENT: Uuid = id(0x8f62);
/// Mira's learning records: one she keeps, one she deletes; the record `sdworx` synced for
/// her as `LR-2026-00042`.
pub const MIRA_RECORD: Uuid = id(0x8e01);
pub const MIRA_OLD_RECORD: Uuid = id(0x8e02);
pub const MIRA_SYNCED_RECORD: Uuid = id(0x8e03);
/// Jonas's challenge (addressed) and Mira's (open, no solutions yet).
pub const JONAS_CHALLENGE: Uuid = id(0x8f81);
pub const MIRA_CHALLENGE: Uuid = id(0x8f82);
/// The tandem-learning solution (published; Mira created it, Jonas co-authored it) and a
/// draft of Mira's to edit and remove.
pub const TANDEM_SOLUTION: Uuid = id(0x8d41);
pub const MIRA_DRAFT: Uuid = id(0x8f92);
/// Comments: one on the tandem-learning solution, one on Jonas's challenge.
pub const SOLUTION_COMMENT: Uuid = id(0x8fa1);
pub const CHALLENGE_COMMENT: Uuid = id(0x8fa2);

/// Zorgnet Kempen's identity provider over SCIM: Hanne Verhoeven (a user to read and change)
/// and Bram Wouters (the user to deprovision); the team Zorgteam Geel (Hanne in it) and
/// Projectteam 2026 (the group to delete).
pub const SCIM_HANNE: Uuid = id(0x8fb1);
pub const SCIM_BRAM: Uuid = id(0x8fb2);
pub const SCIM_TEAM: Uuid = id(0x8fc1);
pub const SCIM_PROJECT: Uuid = id(0x8fc2);
/// A second client of Zorgnet Kempen with the `scim` scope and no token yet (the one whose
/// SCIM token the examples make and remove).
pub const SCIM_SPARE_CLIENT: Uuid = id(0x8fb9);
/// Zorgnet Kempen's webhook subscription for its HR system (disabled: the demo has no
/// receiver).
pub const ZORGNET_WEBHOOK: Uuid = id(0x8fd1);

/// The planned ids by kind and demo key.
const PLANNED: &[(Kind, &str, Uuid)] = &[
    (Kind::Organisation, "zorgnet", ZORGNET),
    (Kind::Organisation, "leerpunt", LEERPUNT),
    (Kind::Person, "mira", MIRA),
    (Kind::Membership, "mira", MIRA_AT_ZORGNET),
    (Kind::Person, "jonas", JONAS),
    (Kind::Person, "ann", ANN),
    (Kind::Person, "bert", BERT),
    (Kind::Person, "chris", CHRIS),
    (Kind::Person, "dirk", DIRK),
    (Kind::Person, "eva", EVA),
    (Kind::Person, "fien", FIEN),
    (Kind::Person, "gert", GERT),
    (Kind::Membership, "gert", GERT_AT_ZORGNET),
    (Kind::Client, "reporting", REPORTING_CLIENT),
    (Kind::Theme, "unused", UNUSED_THEME),
    (Kind::Event, "feedback-intervisie", FEEDBACK_INTERVISION),
    (Kind::Event, "draft", DRAFT_EVENT),
    (Kind::Event, "intervisie-55", INTERVISION_55),
    (Kind::Registration, "feedback-intervisie/mira", MIRA_FOR_FEEDBACK),
    (Kind::Registration, "feedback-intervisie/sofie", SOFIE_FOR_FEEDBACK),
    (Kind::Registration, "lerend-netwerk-hr/karim", KARIM_AT_HR_NETWORK),
    (Kind::Registration, "lerend-netwerk-hr/tom", TOM_AT_HR_NETWORK),
    (Kind::Registration, "intervisie-55/mira", MIRA_AT_INTERVISION_55),
    (Kind::Commitment, "intervisie-55/mira", MIRA_COMMITMENT),
    (Kind::Commitment, "intervisie-55/pieter", PIETER_COMMITMENT),
    (Kind::LearningRecord, "mira/0", MIRA_RECORD),
    (Kind::LearningRecord, "mira/1", MIRA_OLD_RECORD),
    (Kind::LearningRecord, "LR-2026-00042", MIRA_SYNCED_RECORD),
    (Kind::Challenge, "kennis-doorgeven-zorg", JONAS_CHALLENGE),
    (Kind::Challenge, "mira-challenge", MIRA_CHALLENGE),
    (Kind::Solution, "tandemleren-zorg", TANDEM_SOLUTION),
    (Kind::Solution, "mira-draft", MIRA_DRAFT),
    (Kind::Comment, "tandemleren-zorg", SOLUTION_COMMENT),
    (Kind::Comment, "kennis-doorgeven-zorg", CHALLENGE_COMMENT),
    (Kind::Person, "scim/hanne", SCIM_HANNE),
    (Kind::Person, "scim/bram", SCIM_BRAM),
    (Kind::Group, "scim/zorgteam", SCIM_TEAM),
    (Kind::Group, "scim/project", SCIM_PROJECT),
    (Kind::Client, "scim/spare", SCIM_SPARE_CLIENT),
    (Kind::Webhook, "zorgnet-hr", ZORGNET_WEBHOOK),
];

/// The ids planned for the objects of `kinds` of demo `key`.
pub(super) fn planned_for(key: &str, kinds: &[Kind]) -> Vec<(Kind, Uuid)> {
    PLANNED.iter().filter(|(k, name, _)| *name == key && kinds.contains(k)).map(|(k, _, id)| (*k, *id)).collect()
}

/// Runs `fut`, giving the objects of `kinds` it creates the ids planned for demo `key`.
pub(super) async fn with_ids<F: Future>(key: &str, kinds: &[Kind], fut: F) -> F::Output {
    planned(&planned_for(key, kinds), fut).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_planned_id_is_planned_once() {
        let mut ids: Vec<Uuid> = PLANNED.iter().map(|(_, _, id)| *id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PLANNED.len());
    }
}
