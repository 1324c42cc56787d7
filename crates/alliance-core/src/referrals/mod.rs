//! Referrals: early identification of people at risk of violence and their referral, with
//! consent and the least personal data, into services the partnership commissions
//! (navigators, mentoring, support for parents).
//!
//! Everything here is pure: storage, pages and the API call these rules and nothing else
//! decides. See `docs/referrals.md` for the data model and the data protection reasoning.
//!
//! - [`codes`]: the coded lists (needs, source settings, consent, lawful basis, contact
//!   routes, decline reasons, closure outcomes, sex, age bands, waiting-time bands).
//! - [`service`]: commissioned services, their eligibility and its check.
//! - [`personal`], [`postcode`], [`contact`]: the least personal data a service needs.
//! - [`consent`]: the consent record and lawful basis, without which no referral is made.
//! - [`referral`]: the referral, the submitted form, and who may see its personal data.
//! - [`workflow`], [`waiting`]: the dated steps and waiting times.
//! - [`retention`]: erasure after a configured period, keeping anonymous facts.
//! - [`aggregates`]: counts of anonymous facts for the disclosure point to suppress.
//! - [`fields`]: the form's fields and the errors that name them.
//! - [`linked`]: suppression of figures published together across tables that share totals.
//! - [`activity`]: what happened in a period (a Board pack's quarter), per service.

pub mod activity;
pub mod aggregates;
pub mod codes;
pub mod consent;
pub mod contact;
pub mod fields;
pub mod linked;
pub mod personal;
pub mod postcode;
pub mod referral;
pub mod retention;
pub mod service;
#[cfg(test)]
mod test_support;
pub mod waiting;
pub mod workflow;

pub use activity::{activity, Activity, ServiceActivity};
pub use aggregates::{aggregate, count_by, AggregateRow, Dimension, NOT_DECIDED, NOT_ENGAGED, NOT_RECORDED};
pub use codes::{
    AgeBand, BirthNeed, ClosureOutcome, CodeError, ConsentGivenBy, ConsentMethod, ContactRoute, DataCategory,
    DeclineReason, LawfulBasis, NameNeed, Need, Sex, SourceSetting, WaitBand,
};
pub use consent::{Consent, ConsentFields};
pub use contact::Contact;
pub use fields::{parse_date, Field, FieldError, ValidationErrors};
pub use personal::{
    age_on, minimise, AgeLimits, Birth, Minimised, MinimisedPerson, Note, PersonName, PersonalDataPolicy,
    PersonalFields,
};
pub use postcode::{PostcodeDistrict, PostcodeDistrictError};
pub use referral::{
    new_referral, personal_data_visible_to, Needs, NewReferral, Parties, Referral, ReferralForm, Referrer,
};
pub use retention::{
    anonymise, erasure_date, erasure_due, AnonymousReferral, RetentionPeriod, RetentionPeriodError,
    MAX_RETENTION_MONTHS,
};
pub use service::{check_eligibility, open_caseload, CommissionedService, Eligibility, Ineligible, ServiceConfigError};
pub use waiting::{median, nearest_rank, summarise, waiting_times, WaitSummary, WaitingTimes};
pub use workflow::{transition, Decision, Event, EventError, Status, Timeline, TimelineDates, TransitionError};
