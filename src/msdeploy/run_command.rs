//! runCommand settings, named and written the way msdeploy writes them.

use crate::manifest::model::RunCommand;

/// The settings of one `[[run-command]]` as (name, value) pairs, only those
/// the user set, in this fixed order: dontUseCommandExe, waitAttempts,
/// waitInterval, dontUseJobObject, successReturnCodes (the order of
/// Microsoft's runCommand reference). Booleans are `true`/`false`, return
/// codes are joined with `;` (`0x0;0x2`), as on msdeploy's command line.
pub fn settings(rc: &RunCommand) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Some(v) = rc.dont_use_command_exe {
        out.push(("dontUseCommandExe".to_string(), v.to_string()));
    }
    if let Some(v) = rc.wait_attempts {
        out.push(("waitAttempts".to_string(), v.to_string()));
    }
    if let Some(v) = rc.wait_interval {
        out.push(("waitInterval".to_string(), v.to_string()));
    }
    if let Some(v) = rc.dont_use_job_object {
        out.push(("dontUseJobObject".to_string(), v.to_string()));
    }
    if let Some(codes) = &rc.success_return_codes {
        out.push(("successReturnCodes".to_string(), codes.join(";")));
    }
    out
}

/// Every setting name runCommand understands.
pub const SETTING_NAMES: [&str; 5] = [
    "dontUseCommandExe",
    "waitAttempts",
    "waitInterval",
    "dontUseJobObject",
    "successReturnCodes",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_set_values_in_documented_order() {
        let rc = RunCommand {
            command: "x".into(),
            wait_attempts: Some(10),
            wait_interval: Some(60000),
            success_return_codes: Some(vec!["0x0".into(), "0x2".into()]),
            dont_use_command_exe: Some(true),
            dont_use_job_object: None,
        };
        let s = settings(&rc);
        assert_eq!(
            s,
            vec![
                ("dontUseCommandExe".to_string(), "true".to_string()),
                ("waitAttempts".to_string(), "10".to_string()),
                ("waitInterval".to_string(), "60000".to_string()),
                ("successReturnCodes".to_string(), "0x0;0x2".to_string()),
            ]
        );
    }
}
