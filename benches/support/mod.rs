//! Paired measurement: the machines are shared and noisy, so besides criterion's
//! absolute times each bench reports the ratio of a figure to its floor measured in
//! alternating rounds (floor, figure, floor, figure, ...), median over the rounds.
//! Slow drifts in machine load hit both sides of a round alike.

use std::time::Instant;

/// Runs `floor` and `figure` `per_round` times each, alternately, for `rounds`
/// rounds; prints and returns the median of the per-round time ratios.
pub fn paired_ratio(
    name: &str,
    rounds: usize,
    per_round: usize,
    floor: impl FnMut(),
    mut figure: impl FnMut(),
) -> f64 {
    paired_ratio_with_setup(
        name,
        rounds,
        per_round,
        floor,
        |n| vec![(); n],
        |()| figure(),
    )
}

/// Rounds whose inputs [`paired_ratio_with_setup`] prepares at once (for
/// [`paired_ratio`] the inputs are zero-sized and setting up costs nothing): setting up (a
/// card signing its answer) disturbs the caches, so it runs once every so many rounds
/// and the median leaves the disturbed round out.
const SETUP_ROUNDS: usize = 20;

/// [`paired_ratio`] for a figure that consumes prepared inputs (a door tap needs a
/// fresh challenge and the card's signed answer, which are not the door's work):
/// `setup(n)` runs untimed, before the floor of every [`SETUP_ROUNDS`]th round, and
/// returns `n` inputs; `figure` takes one per call. Same alternation, same median.
pub fn paired_ratio_with_setup<S>(
    name: &str,
    rounds: usize,
    per_round: usize,
    mut floor: impl FnMut(),
    mut setup: impl FnMut(usize) -> Vec<S>,
    mut figure: impl FnMut(S),
) -> f64 {
    let mut ratios = Vec::with_capacity(rounds);
    let (mut floor_total, mut figure_total) = (0f64, 0f64);
    let mut inputs = Vec::new().into_iter();
    for round in 0..rounds {
        if round % SETUP_ROUNDS == 0 {
            inputs = setup(per_round * SETUP_ROUNDS.min(rounds - round)).into_iter();
        }
        let t = Instant::now();
        for _ in 0..per_round {
            floor();
        }
        let f = t.elapsed().as_secs_f64();
        let t = Instant::now();
        for input in inputs.by_ref().take(per_round) {
            figure(input);
        }
        let g = t.elapsed().as_secs_f64();
        ratios.push(g / f);
        floor_total += f;
        figure_total += g;
    }
    ratios.sort_by(f64::total_cmp);
    let median = ratios[ratios.len() / 2];
    let n = (rounds * per_round) as f64;
    println!(
        "paired: {name}: {median:.3}x the floor (median of {rounds} rounds; figure {:.2} us, floor {:.2} us per op)",
        figure_total / n * 1e6,
        floor_total / n * 1e6
    );
    median
}
