using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Account;

/// <summary>
/// Production settings (staff need two-factor): a staff member signed in with the password alone has a staff role
/// but not the staff policies, and every place that shows or opens staff data follows the policies, not the role.
/// The allocation pages: Allocation/AllocationVisibilityTests.
/// </summary>
public sealed class PasswordOnlyStaffTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public async Task Password_only_staff_session_shows_no_staff_menus_or_sections_but_a_way_to_two_factor()
    {
        var staff = await factory.CreateUserAsync("both.hats@program.example.org", [Roles.Admin, Roles.Reviewer, Roles.Researcher]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(staff.Email!);

        var dashboard = await client.GetPageAsync("/");
        Assert.DoesNotContain("href=\"/Admin/Calls\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("href=\"/Reviews\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"admin-h\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"reviewer-h\"", dashboard, StringComparison.Ordinal);
        Assert.Contains("id=\"staff-two-factor\" href=\"/Account/TwoFactor?required=true\"", dashboard, StringComparison.Ordinal);

        await client.EnableTwoFactorAsync();
        var signedInWithCode = await client.GetPageAsync("/");
        Assert.Contains("href=\"/Admin/Calls\"", signedInWithCode, StringComparison.Ordinal);
        Assert.Contains("href=\"/Reviews\"", signedInWithCode, StringComparison.Ordinal);
        Assert.Contains("id=\"admin-h\"", signedInWithCode, StringComparison.Ordinal);
        Assert.Contains("id=\"reviewer-h\"", signedInWithCode, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"staff-two-factor\"", signedInWithCode, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Researcher_sees_no_staff_menus_and_no_two_factor_prompt_for_them()
    {
        var researcher = await factory.CreateUserAsync("plain.researcher@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(researcher.Email!);
        var dashboard = await client.GetPageAsync("/");
        Assert.DoesNotContain("href=\"/Admin/Calls\"", dashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("id=\"staff-two-factor\"", dashboard, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_only_admin_session_is_not_offered_admin_notices_and_cannot_set_them()
    {
        var admin = await factory.CreateUserAsync("prefs.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        var adminKind = NotificationKinds.Get(NotificationKinds.AdminJobFailed);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        var page = await client.GetPageAsync("/Account/Notifications/Preferences");
        Assert.DoesNotContain(adminKind.Description, page, StringComparison.Ordinal);
        Assert.Contains(NotificationKinds.Get(NotificationKinds.QuotaThreshold).Description, page, StringComparison.Ordinal);
        using (var forged = await client.PostFormAsync("/Account/Notifications/Preferences", new Dictionary<string, string>
        {
            ["Input[0].Kind"] = adminKind.Key,
            ["Input[0].Mode"] = nameof(NotificationMode.Off),
        }))
        {
            Assert.Equal(HttpStatusCode.OK, forged.StatusCode);
            Assert.Contains("This kind of notice is not offered to you.", await forged.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.False(await db.NotificationPreferences.AnyAsync(p => p.UserId == admin.Id));
        }

        await client.EnableTwoFactorAsync();
        Assert.Contains(adminKind.Description, await client.GetPageAsync("/Account/Notifications/Preferences"), StringComparison.Ordinal);
    }
}
