//! Vetting levels, and what a door may demand of them.
//!
//! UK policing runs separate vetting ladders. Within a ladder the levels are ordered;
//! across ladders they are not, so this module never pretends they are:
//!
//! - **Force vetting** for officers and police staff: Recruitment Vetting (RV) below
//!   Management Vetting (MV).
//! - **Non-Police Personnel Vetting** for contractors: NPPV1 < NPPV2 (abbreviated) <
//!   NPPV2 (full) < NPPV3. The abbreviated NPPV2 checks less than the full one, so it
//!   satisfies a demand for NPPV2 (abbreviated) but not for NPPV2.
//! - **National security vetting**, held on top of force vetting or NPPV: CTC < SC <
//!   eSC < DV.
//!
//! A holder has exactly one police ladder ([`PoliceVetting`]) and optionally a national
//! security level. A door states its demand as a [`VettingRequirement`]: for the police
//! ladder, the minimum it accepts on each ladder it admits (a ladder it does not name is
//! refused), and optionally a minimum national security level on top.
//!
//! ```
//! use revocard::{ForceVetting, Nppv, NationalSecurity, PoliceVetting, Vetting, VettingRequirement};
//!
//! // A custody suite: MV officers and staff, or NPPV3 contractors.
//! let door = VettingRequirement::force(ForceVetting::Management).or_nppv(Nppv::Level3);
//! let officer = Vetting::new(PoliceVetting::Force(ForceVetting::Management), None);
//! let contractor = Vetting::new(PoliceVetting::NonPolice(Nppv::Level2), None);
//! assert!(door.is_met_by(&officer));
//! assert!(!door.is_met_by(&contractor));
//!
//! // A secure room also demands SC on top.
//! let secure = door.and_national(NationalSecurity::Sc);
//! assert!(!secure.is_met_by(&officer));
//! let cleared = Vetting::new(PoliceVetting::Force(ForceVetting::Management), Some(NationalSecurity::Dv));
//! assert!(secure.is_met_by(&cleared));
//! ```

use core::fmt;

/// Force vetting, for officers and police staff.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum ForceVetting {
    /// Recruitment Vetting (RV).
    Recruitment,
    /// Management Vetting (MV).
    Management,
}

/// Non-Police Personnel Vetting, for contractors.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Nppv {
    /// NPPV level 1.
    Level1,
    /// NPPV level 2, abbreviated checks.
    Level2Abbreviated,
    /// NPPV level 2, full checks.
    Level2,
    /// NPPV level 3.
    Level3,
}

/// National security vetting, held on top of a police ladder.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum NationalSecurity {
    /// Counter-Terrorist Check.
    Ctc,
    /// Security Check.
    Sc,
    /// Enhanced Security Check.
    Esc,
    /// Developed Vetting.
    Dv,
}

/// The police vetting ladder a holder is on, and their level on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum PoliceVetting {
    /// Officers and police staff.
    Force(ForceVetting),
    /// Contractors and other non-police personnel.
    NonPolice(Nppv),
}

/// A holder's clearance: one police ladder, plus national security vetting if held.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Vetting {
    /// Force vetting or NPPV.
    pub police: PoliceVetting,
    /// National security vetting, if held.
    pub national: Option<NationalSecurity>,
}

impl Vetting {
    /// A clearance.
    #[must_use]
    pub const fn new(police: PoliceVetting, national: Option<NationalSecurity>) -> Self {
        Self { police, national }
    }
}

impl fmt::Display for Vetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.police {
            PoliceVetting::Force(ForceVetting::Recruitment) => f.write_str("RV")?,
            PoliceVetting::Force(ForceVetting::Management) => f.write_str("MV")?,
            PoliceVetting::NonPolice(Nppv::Level1) => f.write_str("NPPV1")?,
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated) => f.write_str("NPPV2(abbr)")?,
            PoliceVetting::NonPolice(Nppv::Level2) => f.write_str("NPPV2")?,
            PoliceVetting::NonPolice(Nppv::Level3) => f.write_str("NPPV3")?,
        }
        match self.national {
            None => Ok(()),
            Some(NationalSecurity::Ctc) => f.write_str("+CTC"),
            Some(NationalSecurity::Sc) => f.write_str("+SC"),
            Some(NationalSecurity::Esc) => f.write_str("+eSC"),
            Some(NationalSecurity::Dv) => f.write_str("+DV"),
        }
    }
}

impl core::str::FromStr for Vetting {
    type Err = crate::model::FieldError;

    /// Parses the form [`Display`](fmt::Display) writes (`MV`, `NPPV2(abbr)+SC`,
    /// `RV+DV`), ignoring ASCII case: the form an HR export or an operator types.
    ///
    /// # Errors
    /// [`FieldError::Invalid`](crate::model::FieldError::Invalid) naming
    /// [`Field::Vetting`](crate::model::Field::Vetting) for anything else.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = crate::model::FieldError::Invalid {
            field: crate::model::Field::Vetting,
        };
        let text = text.trim();
        let (police, national) = match text.split_once('+') {
            Some((police, national)) => (police, Some(national)),
            None => (text, None),
        };
        let police = match police.to_ascii_uppercase().as_str() {
            "RV" => PoliceVetting::Force(ForceVetting::Recruitment),
            "MV" => PoliceVetting::Force(ForceVetting::Management),
            "NPPV1" => PoliceVetting::NonPolice(Nppv::Level1),
            "NPPV2(ABBR)" => PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
            "NPPV2" => PoliceVetting::NonPolice(Nppv::Level2),
            "NPPV3" => PoliceVetting::NonPolice(Nppv::Level3),
            _ => return Err(invalid),
        };
        let national = match national.map(str::to_ascii_uppercase).as_deref() {
            None => None,
            Some("CTC") => Some(NationalSecurity::Ctc),
            Some("SC") => Some(NationalSecurity::Sc),
            Some("ESC") => Some(NationalSecurity::Esc),
            Some("DV") => Some(NationalSecurity::Dv),
            Some(_) => return Err(invalid),
        };
        Ok(Self { police, national })
    }
}

/// What a door demands. The default demands nothing.
///
/// If neither `force` nor `nppv` is set, any police ladder is accepted. If either is
/// set, the holder's ladder must be one of those named and reach its minimum. If
/// `national` is set, the holder must also hold at least that national level.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub struct VettingRequirement {
    /// Minimum force vetting accepted, if officers and staff are admitted on it.
    pub force: Option<ForceVetting>,
    /// Minimum NPPV accepted, if contractors are admitted on it.
    pub nppv: Option<Nppv>,
    /// Minimum national security vetting, if demanded on top.
    pub national: Option<NationalSecurity>,
}

impl VettingRequirement {
    /// Demands nothing.
    #[must_use]
    pub const fn none() -> Self {
        Self {
            force: None,
            nppv: None,
            national: None,
        }
    }

    /// Force vetting at least `min` (contractors refused unless [`Self::or_nppv`] adds them).
    #[must_use]
    pub const fn force(min: ForceVetting) -> Self {
        Self {
            force: Some(min),
            nppv: None,
            national: None,
        }
    }

    /// NPPV at least `min` (officers and staff refused unless [`Self::or_force`] adds them).
    #[must_use]
    pub const fn nppv(min: Nppv) -> Self {
        Self {
            force: None,
            nppv: Some(min),
            national: None,
        }
    }

    /// Also accept force vetting at least `min`.
    #[must_use]
    pub const fn or_force(self, min: ForceVetting) -> Self {
        Self {
            force: Some(min),
            ..self
        }
    }

    /// Also accept NPPV at least `min`.
    #[must_use]
    pub const fn or_nppv(self, min: Nppv) -> Self {
        Self {
            nppv: Some(min),
            ..self
        }
    }

    /// Also demand national security vetting at least `min`.
    #[must_use]
    pub const fn and_national(self, min: NationalSecurity) -> Self {
        Self {
            national: Some(min),
            ..self
        }
    }

    /// Whether a holder with `vetting` meets this demand.
    #[must_use]
    pub fn is_met_by(&self, vetting: &Vetting) -> bool {
        let police_ok = match (self.force, self.nppv) {
            (None, None) => true,
            (force, nppv) => match vetting.police {
                PoliceVetting::Force(level) => force.is_some_and(|min| level >= min),
                PoliceVetting::NonPolice(level) => nppv.is_some_and(|min| level >= min),
            },
        };
        let national_ok = match self.national {
            None => true,
            Some(min) => vetting.national.is_some_and(|held| held >= min),
        };
        police_ok && national_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladders_are_ordered_within_and_refused_across() {
        let mv = Vetting::new(PoliceVetting::Force(ForceVetting::Management), None);
        let rv = Vetting::new(PoliceVetting::Force(ForceVetting::Recruitment), None);
        let n3 = Vetting::new(PoliceVetting::NonPolice(Nppv::Level3), None);
        let n2a = Vetting::new(PoliceVetting::NonPolice(Nppv::Level2Abbreviated), None);
        let door = VettingRequirement::force(ForceVetting::Management);
        assert!(door.is_met_by(&mv));
        assert!(!door.is_met_by(&rv));
        assert!(
            !door.is_met_by(&n3),
            "NPPV3 is not force vetting unless the door says so"
        );
        let door = VettingRequirement::nppv(Nppv::Level2);
        assert!(door.is_met_by(&n3));
        assert!(
            !door.is_met_by(&n2a),
            "abbreviated NPPV2 is below full NPPV2"
        );
        assert!(VettingRequirement::nppv(Nppv::Level2Abbreviated).is_met_by(&n2a));
        assert!(VettingRequirement::none().is_met_by(&n2a));
    }

    #[test]
    fn national_security_is_on_top() {
        let door = VettingRequirement::none().and_national(NationalSecurity::Sc);
        let plain = Vetting::new(PoliceVetting::Force(ForceVetting::Management), None);
        let ctc = Vetting::new(
            PoliceVetting::Force(ForceVetting::Recruitment),
            Some(NationalSecurity::Ctc),
        );
        let esc = Vetting::new(
            PoliceVetting::NonPolice(Nppv::Level1),
            Some(NationalSecurity::Esc),
        );
        assert!(!door.is_met_by(&plain));
        assert!(!door.is_met_by(&ctc));
        assert!(door.is_met_by(&esc));
    }

    #[test]
    fn every_vetting_reads_back_from_its_text_and_nothing_else_does() {
        use core::str::FromStr;
        let ladders = [
            PoliceVetting::Force(ForceVetting::Recruitment),
            PoliceVetting::Force(ForceVetting::Management),
            PoliceVetting::NonPolice(Nppv::Level1),
            PoliceVetting::NonPolice(Nppv::Level2Abbreviated),
            PoliceVetting::NonPolice(Nppv::Level2),
            PoliceVetting::NonPolice(Nppv::Level3),
        ];
        let nationals = [
            None,
            Some(NationalSecurity::Ctc),
            Some(NationalSecurity::Sc),
            Some(NationalSecurity::Esc),
            Some(NationalSecurity::Dv),
        ];
        for police in ladders {
            for national in nationals {
                let v = Vetting::new(police, national);
                let text = v.to_string();
                assert_eq!(Vetting::from_str(&text), Ok(v), "{text}");
                assert_eq!(Vetting::from_str(&text.to_lowercase()), Ok(v), "{text}");
            }
        }
        for bad in ["", "MV+", "MV+XX", "SC", "NPPV4", "MV+SC+DV", "M V"] {
            assert!(Vetting::from_str(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
