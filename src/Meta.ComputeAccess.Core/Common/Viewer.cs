namespace Meta.ComputeAccess;

/// <summary>
/// Who is looking, for the modules' visibility scopes (<c>db.Allocations.VisibleTo(viewer)</c>). <see cref="IsAdmin"/>
/// is true only when the Admin policy (role and, in production, a two-factor session) grants it, never from the role
/// claim alone: the web host builds it with <c>ViewerAsync()</c>.
/// </summary>
public readonly record struct Viewer(Guid UserId, bool IsAdmin)
{
    /// <summary>
    /// Someone looking as an applicant, whatever their roles: the team's own pages (/Proposals/...) and the team's
    /// actions, where an admin who is not on the team gets the same 404 as anyone (admins use the admin pages).
    /// </summary>
    public static Viewer Applicant(Guid userId) => new(userId, IsAdmin: false);
}
