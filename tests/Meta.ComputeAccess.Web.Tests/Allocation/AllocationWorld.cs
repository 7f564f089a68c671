using System.Net.Http.Headers;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Allocation;

/// <summary>Arranges clusters, periods, capacity, tokens and allocations through the real module services.</summary>
internal static class AllocationWorld
{
    public static async Task<Cluster> CreateClusterAsync(this PortalFactory factory, string slug)
    {
        await using var db = factory.NewDbContext();
        var cluster = Cluster.Create("Cluster " + slug, slug, "H100 80GB", 8, 8, "slurm-" + slug, factory.Clock.GetUtcNow());
        db.Clusters.Add(cluster);
        await db.SaveChangesAsync();
        return cluster;
    }

    /// <summary>A period around the factory's current date: from 30 days ago to 300 days ahead.</summary>
    public static async Task<AllocationPeriod> CreatePeriodAsync(this PortalFactory factory, string name)
    {
        await using var db = factory.NewDbContext();
        var today = factory.Today();
        var period = AllocationPeriod.Create(name, today.AddDays(-30), today.AddDays(300), factory.Clock.GetUtcNow());
        db.AllocationPeriods.Add(period);
        await db.SaveChangesAsync();
        return period;
    }

    public static async Task SetCapacityAsync(this PortalFactory factory, Cluster cluster, AllocationPeriod period, decimal hours, decimal factor = 1m, decimal reserve = 0m)
    {
        await using var db = factory.NewDbContext();
        db.ClusterCapacities.Add(ClusterCapacity.Create(cluster.Id, period.Id, hours, factor, reserve, factory.Clock.GetUtcNow()));
        await db.SaveChangesAsync();
    }

    public static DateOnly Today(this PortalFactory factory) => DateOnly.FromDateTime(factory.Clock.GetUtcNow().UtcDateTime);

    public static Task<Meta.ComputeAccess.Allocations.Allocation> GrantAsync(
        this PortalFactory factory, AllocationPeriod period, Guid piUserId, string title, IReadOnlyDictionary<Guid, decimal> hours,
        string? account = null, DateOnly? start = null, DateOnly? end = null) =>
        factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationService>().CreateAsync(
            new NewAllocation(period.Id, piUserId, title, start ?? factory.Today().AddDays(-10), end ?? factory.Today().AddDays(90), hours, SlurmAccount: account),
            actor: null));

    /// <summary>Sets and confirms <paramref name="user"/>'s login on <paramref name="cluster"/>, as an admin would.</summary>
    public static Task SetLoginAsync(this PortalFactory factory, Cluster cluster, Identity.PortalUser user, string login, Guid admin) =>
        factory.WithScopeAsync(sp => sp.GetRequiredService<ClusterLogins>().SetAsync(cluster.Id, user.Email!, login, admin));

    /// <summary>The PI invites <paramref name="member"/> and the member accepts, through the module the pages call.</summary>
    public static Task AddMemberAsync(this PortalFactory factory, Meta.ComputeAccess.Allocations.Allocation allocation, Identity.PortalUser member) =>
        factory.WithScopeAsync(async sp =>
        {
            await sp.GetRequiredService<AllocationMembers>().InviteAsync(allocation.Id, Viewer.Applicant(allocation.PiUserId), member.Email!);
            await sp.GetRequiredService<AllocationMembers>().AcceptAsync(allocation.Id, member.Id);
        });

    public static async Task<string> CreateTokenAsync(this PortalFactory factory, Cluster cluster)
    {
        await using var db = factory.NewDbContext();
        var (token, secret) = ClusterToken.Create(cluster.Id, "test", null, factory.Clock.GetUtcNow());
        db.ClusterTokens.Add(token);
        await db.SaveChangesAsync();
        return secret;
    }

    public static HttpClient ApiClient(this PortalFactory factory, string token)
    {
        var client = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>A sacct --parsable2 body (header first) of finished one-GPU-hour-per-GPU jobs ending yesterday.</summary>
    public static string Sacct(this PortalFactory factory, params (string JobId, string Account, int Gpus)[] jobs)
    {
        var end = factory.Clock.GetUtcNow().UtcDateTime.Date.AddDays(-1).AddHours(12);
        var lines = new List<string> { "JobID|Account|User|Start|End|ElapsedRaw|AllocTRES|State" };
        foreach (var (jobId, account, gpus) in jobs)
        {
            lines.Add($"{jobId}|{account}|alice|{end.AddHours(-1):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|3600|billing=8,cpu=8,gres/gpu={gpus},mem=64G,node=1|COMPLETED");
            lines.Add($"{jobId}.batch|{account}|alice|{end.AddHours(-1):yyyy-MM-ddTHH:mm:ss}|{end:yyyy-MM-ddTHH:mm:ss}|3600|cpu=8,gres/gpu={gpus},mem=64G,node=1|COMPLETED");
        }
        return string.Join('\n', lines) + "\n";
    }

    public static StringContent SacctContent(string body) => new(body, System.Text.Encoding.UTF8, "text/plain");
}
