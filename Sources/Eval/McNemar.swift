// The exact McNemar test for paired pass/fail outcomes: is B's pass rate different from A's, or is the
// difference what chance flips of a few problems give?
import Foundation

/// The two-sided exact McNemar p-value: under the null hypothesis each discordant problem (passed by one model
/// only) is equally likely to go either way, so `gained` ~ Binomial(gained + lost, 1/2).
/// p = min(1, 2 * P(X <= min(gained, lost))); 1 when no problem is discordant.
public func mcnemarExactP(gained: Int, lost: Int) -> Double {
    precondition(gained >= 0 && lost >= 0, "counts are non-negative")
    let n = gained + lost
    guard n > 0 else { return 1 }
    let k = min(gained, lost)
    // Sum of C(n, i) / 2^n for i <= k, in log space so large n does not overflow.
    var logTerm = -Double(n) * log(2.0)  // log(C(n, 0) / 2^n)
    var sum = 0.0
    for i in 0...k {
        if i > 0 { logTerm += log(Double(n - i + 1)) - log(Double(i)) }
        sum += exp(logTerm)
    }
    return min(1, 2 * sum)
}
