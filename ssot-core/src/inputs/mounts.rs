//! `/proc/mounts` (for the filesystem-quota limitation).

/// One mounted filesystem: its mount point and its options.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Mount {
    /// Where it is mounted.
    pub point: String,
    /// Its options, comma-separated as the kernel prints them.
    pub options: String,
}

/// Parses `/proc/mounts` (`device point type options dump pass`); lines with
/// fewer than four fields are skipped. Mount points with spaces are written
/// `\040` by the kernel and kept as written.
pub fn parse_mounts(text: &str) -> Vec<Mount> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() >= 4).then(|| Mount {
                point: f[1].to_string(),
                options: f[3].to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mount_points_and_options() {
        let m = parse_mounts("/dev/sda1 /opt/ssot-backup ext4 rw,usrquota 0 0\nnonsense\n");
        assert_eq!(
            m,
            [Mount {
                point: "/opt/ssot-backup".into(),
                options: "rw,usrquota".into()
            }]
        );
    }
}
