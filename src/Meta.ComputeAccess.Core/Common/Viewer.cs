namespace Meta.ComputeAccess;

/// <summary>
/// Who is looking, for the modules' visibility scopes (<c>db.Allocations.VisibleTo(viewer)</c>). <see cref="IsAdmin"/>
/// is true only when the Admin policy (role and, in production, a two-factor session) grants it, never from the role
/// claim alone: the web host builds it with <c>ViewerAsync()</c>.
/// </summary>
public readonly record struct Viewer(Guid UserId, bool IsAdmin);
