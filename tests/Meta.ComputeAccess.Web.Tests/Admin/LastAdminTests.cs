using System.Net;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;

namespace Meta.ComputeAccess.Web.Tests.Admin;

/// <summary>A database of its own: the admin here is the only one.</summary>
public sealed class LastAdminTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task The_last_admin_keeps_the_role_and_the_refusal_is_shown_on_the_page()
    {
        var admin = await factory.CreateUserAsync("only.admin@program.example.org", [Roles.Admin]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        var page = $"/Admin/Users/Edit?id={admin.Id}";
        using var response = await client.PostFormAsync(page, new Dictionary<string, string> { ["role"] = Roles.Admin }, page + "&handler=Revoke");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("This is the last admin: grant the Admin role to someone else first.", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        var adminRole = await db.Roles.Where(r => r.Name == Roles.Admin).Select(r => r.Id).SingleAsync();
        Assert.True(await db.UserRoles.AnyAsync(ur => ur.UserId == admin.Id && ur.RoleId == adminRole));
        Assert.False(await db.AuditEntries.AnyAsync(a => a.SubjectId == admin.Id.ToString()));
    }
}
