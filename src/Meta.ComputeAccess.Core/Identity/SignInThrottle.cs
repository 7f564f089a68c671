namespace Meta.ComputeAccess.Identity;

/// <summary>
/// Wrong passwords typed for one email address, whether or not an account has it, and the pause they caused: the
/// sign-in form answers an unknown address exactly as an existing one (docs/decisions/0006-sign-in-answers-alike.md).
/// The address is kept only as a hash. Counting restarts after a pause, after a right password, and when the
/// purge job removes rows untouched for a day.
/// </summary>
public sealed class SignInThrottle
{
    /// <summary>Hex SHA-256 of the normalized address (<see cref="SignInThrottles.KeyOf"/>).</summary>
    public string AddressKey { get; private set; } = "";

    public int FailedCount { get; private set; }

    public DateTimeOffset? PausedUntil { get; private set; }

    public DateTimeOffset LastFailedAt { get; private set; }

    private SignInThrottle()
    {
    }
}
