//! How far `retention apply` may go, chosen once for every surface.

use crate::error::{Error, Result};
use crate::ApplyMode;

impl ApplyMode {
    /// The mode a surface's options ask for: `confirm` applies the plan as
    /// computed now, `plan_hash` only the reviewed plan with that hash, and
    /// neither is a dry run. Both at once is contradictory and refused
    /// ([`Error::Request`]); the CLI, Python and Rhai all decide here.
    ///
    /// The hash is checked (and lowercased) by
    /// [`crate::Ssot::apply_retention`], as for a mode built directly.
    pub fn from_options(confirm: bool, plan_hash: Option<String>) -> Result<ApplyMode> {
        match (confirm, plan_hash) {
            (true, Some(_)) => Err(Error::Request(
                "give plan_hash (apply exactly the reviewed plan) or confirm, not both".into(),
            )),
            (true, None) => Ok(ApplyMode::Confirm),
            (false, Some(h)) => Ok(ApplyMode::PlanHash(h)),
            (false, None) => Ok(ApplyMode::DryRun),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_options_choose_one_mode_and_refuse_both() {
        let cases = [
            (false, None, Some(ApplyMode::DryRun)),
            (true, None, Some(ApplyMode::Confirm)),
            (
                false,
                Some("ab12"),
                Some(ApplyMode::PlanHash("ab12".into())),
            ),
            (true, Some("ab12"), None),
        ];
        for (confirm, hash, want) in cases {
            let got = ApplyMode::from_options(confirm, hash.map(String::from));
            match want {
                Some(mode) => assert_eq!(got.unwrap(), mode, "{confirm} {hash:?}"),
                None => {
                    let e = got.unwrap_err();
                    assert!(matches!(e, Error::Request(_)), "{e:?}");
                    assert!(e.to_string().contains("not both"), "{e}");
                }
            }
        }
    }
}
