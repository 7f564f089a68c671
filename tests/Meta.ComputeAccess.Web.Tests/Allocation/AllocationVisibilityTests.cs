using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>With staff two-factor on, as in production: admin rights over allocations come from the Admin policy, not the role claim.</summary>
public sealed class AllocationVisibilityTests(StaffTwoFactorPortalFactory factory) : IClassFixture<StaffTwoFactorPortalFactory>
{
    [Fact]
    public async Task An_admin_signed_in_with_a_password_only_gets_404_for_someone_elses_allocation_until_the_second_factor()
    {
        var cluster = await factory.CreateClusterAsync("vis2fa");
        var period = await factory.CreatePeriodAsync("Visibility period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("vis2fa.pi@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Hidden project", new Dictionary<Guid, decimal> { [cluster.Id] = 10m }, account: "vis2fa-acct");
        var admin = await factory.CreateUserAsync("vis2fa.admin@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);

        foreach (var page in new[] { $"/Allocations/{allocation.Id}", $"/Allocations/{allocation.Id}?handler=Jobs" })
        {
            using var hidden = await client.GetAsync(page);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        await client.EnableTwoFactorAsync();
        Assert.Contains("Hidden project", await client.GetPageAsync($"/Allocations/{allocation.Id}"), StringComparison.Ordinal);
        using var csv = await client.GetAsync($"/Allocations/{allocation.Id}?handler=Jobs");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        // "My allocations" stays the admin's own, whatever they may open.
        Assert.DoesNotContain("vis2fa-acct", await client.GetPageAsync("/Allocations"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Only_the_PI_may_ask_for_a_supplement_even_through_the_module()
    {
        var cluster = await factory.CreateClusterAsync("suppi");
        var period = await factory.CreatePeriodAsync("Supplement PI period");
        await factory.SetCapacityAsync(cluster, period, 1_000m);
        var pi = await factory.CreateUserAsync("suppi.pi@example.edu");
        var stranger = await factory.CreateUserAsync("suppi.stranger@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "PI only", new Dictionary<Guid, decimal> { [cluster.Id] = 10m });

        var ex = await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>()
            .RequestSupplementAsync(allocation.Id, cluster.Id, 5m, null, "We would like five more hours for a rerun.", stranger.Id)));
        Assert.Contains("Only the allocation's PI", ex.Message, StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        Assert.False(db.SupplementRequests.Any(s => s.AllocationId == allocation.Id));
    }
}
