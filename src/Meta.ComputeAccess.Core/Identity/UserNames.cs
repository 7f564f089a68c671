using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Identity;

/// <summary>People as lines of text (audit summaries, histories) name them: "Rosa Martínez", never an id.</summary>
public static class UserNames
{
    /// <summary>The person's name, with their email when they gave no name; "a removed account" when the account is gone.</summary>
    public static async Task<string> NameOfAsync(this IQueryable<PortalUser> users, Guid userId, CancellationToken cancellationToken = default) =>
        await users.Where(u => u.Id == userId).Select(u => u.FullName != "" ? u.FullName : u.Email).FirstOrDefaultAsync(cancellationToken)
            ?? "a removed account";
}
