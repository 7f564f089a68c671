using System.Net;
using System.Text.Json;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>What a cluster is told to enforce (<see cref="QuotaExport"/>), by the state of each account.</summary>
public sealed class QuotaExportTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task Only_active_accounts_get_minutes_suspended_ones_get_zero_and_ended_ones_are_not_sent()
    {
        var cluster = await factory.CreateClusterAsync("export");
        var period = await factory.CreatePeriodAsync("Export period");
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var pi = await factory.CreateUserAsync("export.pi@example.edu");
        var admin = await factory.CreateUserAsync("export.admin@example.org", [Roles.Admin]);
        Task<Meta.ComputeAccess.Allocations.Allocation> GrantAsync(string account, decimal hours) =>
            factory.GrantAsync(period, pi.Id, "Project " + account, new Dictionary<Guid, decimal> { [cluster.Id] = hours }, account: account);
        await GrantAsync("exp-active", 10.25m);
        var suspended = await GrantAsync("exp-suspended", 20m);
        var closed = await GrantAsync("exp-closed", 30m);
        await factory.WithScopeAsync(async sp =>
        {
            var service = sp.GetRequiredService<AllocationService>();
            await service.SuspendAsync(suspended.Id, "Security incident under review.", admin.Id);
            await service.CloseAsync(closed.Id, "The project moved to another program.", admin.Id);
        });

        var export = await factory.WithScopeAsync(sp => QuotaExport.ForClusterAsync(sp.GetRequiredService<Data.PortalDbContext>(), cluster.Id, factory.Clock.GetUtcNow()));
        Assert.Equal(["exp-active", "exp-suspended"], export.Accounts.Select(a => a.SlurmAccount));
        Assert.Equal([615L, 0L], export.Accounts.Select(a => a.LimitMinutes));
        Assert.Equal(["exp-active"], export.Active.Select(a => a.SlurmAccount));

        using var api = factory.ApiClient(await factory.CreateTokenAsync(cluster));
        using (var json = await api.GetAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, json.StatusCode);
            var accounts = JsonDocument.Parse(await json.Content.ReadAsStringAsync()).RootElement.GetProperty("accounts");
            Assert.Equal(["exp-active"], accounts.EnumerateArray().Select(a => a.GetProperty("account").GetString()));
            Assert.Equal(10.25m, accounts[0].GetProperty("remainingGpuHours").GetDecimal());
        }
        var text = await api.GetStringAsync(new Uri($"/api/v1/clusters/{cluster.Slug}/quotas?format=sacctmgr", UriKind.Relative));
        Assert.Contains($"name=exp-active cluster={cluster.SlurmClusterName} set GrpTRESMins=gres/gpu=615\n", text, StringComparison.Ordinal);
        Assert.Contains($"name=exp-suspended cluster={cluster.SlurmClusterName} set GrpTRESMins=gres/gpu=0\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("exp-closed", text, StringComparison.Ordinal);
    }
}
