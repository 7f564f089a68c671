using System.Text.RegularExpressions;

namespace Meta.ComputeAccess.Clusters;

/// <summary>
/// A person's login name on one cluster: the Slurm user their jobs run as. Admins set or import it (confirmed at
/// once); a person may propose theirs, which counts only once an admin confirms it. Only confirmed logins are sent to
/// the cluster. A login belongs to one person per cluster.
/// </summary>
public sealed partial class ClusterLogin
{
    /// <summary>The longest login a cluster accepts (the agent's pattern, and POSIX's usual limit).</summary>
    public const int MaxLength = 32;

    public Guid UserId { get; private set; }

    public Guid ClusterId { get; private set; }

    public string Login { get; private set; } = "";

    public bool Confirmed { get; private set; }

    /// <summary>When the login or its confirmation last changed.</summary>
    public DateTimeOffset ChangedAt { get; private set; }

    private ClusterLogin()
    {
    }

    internal static ClusterLogin Propose(Guid userId, Guid clusterId, string login, DateTimeOffset now) =>
        new() { UserId = userId, ClusterId = clusterId, Login = Check(login), Confirmed = false, ChangedAt = now };

    internal static ClusterLogin Set(Guid userId, Guid clusterId, string login, DateTimeOffset now) =>
        new() { UserId = userId, ClusterId = clusterId, Login = Check(login), Confirmed = true, ChangedAt = now };

    /// <summary>The person proposes another login; refused once an admin has confirmed one (they change it then).</summary>
    internal void ProposeAgain(string login, DateTimeOffset now)
    {
        if (Confirmed)
        {
            throw new DomainException($"Your login {Login} on this cluster is confirmed; ask the program's admins to change it.");
        }
        Login = Check(login);
        ChangedAt = now;
    }

    /// <summary>An admin sets the login (confirmed).</summary>
    internal void SetTo(string login, DateTimeOffset now)
    {
        Login = Check(login);
        Confirmed = true;
        ChangedAt = now;
    }

    internal void Confirm(DateTimeOffset now)
    {
        if (Confirmed)
        {
            throw new DomainException($"The login {Login} is already confirmed.");
        }
        Confirmed = true;
        ChangedAt = now;
    }

    /// <summary>Lowercase letters, digits, '_', '.', '-', starting with a letter or '_', at most 32: what a cluster's agent accepts.</summary>
    public static bool IsValid(string? login) => login is not null && LoginPattern().IsMatch(login);

    /// <summary>The login, trimmed, or a refusal that says what a login may be.</summary>
    public static string Check(string? login)
    {
        var trimmed = login?.Trim() ?? "";
        if (!IsValid(trimmed))
        {
            throw new DomainException($"A login is 1 to {MaxLength} lowercase letters, digits, '_', '.' or '-', starting with a letter or '_' (for example jdoe).",
                new Dictionary<string, string> { ["Login"] = "Not a valid login." });
        }
        return trimmed;
    }

    [GeneratedRegex("^[a-z_][a-z0-9_.-]{0,31}$")]
    private static partial Regex LoginPattern();
}
