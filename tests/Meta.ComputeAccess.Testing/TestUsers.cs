using Meta.ComputeAccess.Identity;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Testing;

/// <summary>Creates users through the real UserManager, as registration and the admin command would.</summary>
public static class TestUsers
{
    public const string Password = "correct horse battery staple";

    public static Task<PortalUser> CreateUserAsync(
        this PortalFactory factory,
        string email,
        string[]? roles = null,
        string institution = "Test University",
        bool confirmed = true) =>
        factory.WithScopeAsync(async sp =>
        {
            var users = sp.GetRequiredService<UserManager<PortalUser>>();
            var user = new PortalUser
            {
                UserName = email,
                Email = email,
                FullName = email.Split('@')[0],
                Institution = institution,
                Country = "GB",
                CreatedAt = sp.GetRequiredService<TimeProvider>().GetUtcNow(),
            };
            if (confirmed)
            {
                user.MarkEmailConfirmed();
            }
            Check(await users.CreateAsync(user, Password));
            Check(await users.AddToRolesAsync(user, roles ?? [Roles.Researcher]));
            // Harness users have accepted the terms of use already published (a class that seeds the demo publishes them);
            // users created before a publication meet the terms page like anyone.
            var terms = sp.GetRequiredService<Meta.ComputeAccess.Terms.PortalTerms>();
            if (await terms.CurrentAsync(Meta.ComputeAccess.Terms.TermsKind.TermsOfUse, null, default) is { } current)
            {
                await terms.AcceptTermsOfUseAsync(user.Id, current.Id, default);
            }
            return user;
        });

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
        {
            throw new InvalidOperationException(string.Join("; ", result.Errors.Select(e => e.Description)));
        }
    }
}
