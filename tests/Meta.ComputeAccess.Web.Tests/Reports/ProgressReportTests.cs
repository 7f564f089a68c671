using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Allocation;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Meta.ComputeAccess.Web.Tests.Reports;

/// <summary>Progress and final reports: asked for by the daily job, reminded once, overdue once, submitted with outputs, accepted by an admin.</summary>
public sealed class ProgressReportTests(ProgressReportTests.Portal factory) : IClassFixture<ProgressReportTests.Portal>
{
    /// <summary>The portal with a recording <see cref="IProgressReportAcceptedHandler"/>, as the tranche module would register one.</summary>
    public sealed class Portal : PortalFactory
    {
        public List<AcceptedProgressReport> Accepted { get; } = [];

        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureServices(services => services.AddScoped<IProgressReportAcceptedHandler>(_ => new Recorder(Accepted)));
        }

        private sealed class Recorder(List<AcceptedProgressReport> accepted) : IProgressReportAcceptedHandler
        {
            public Task OnProgressReportAcceptedAsync(AcceptedProgressReport report, CancellationToken cancellationToken)
            {
                lock (accepted)
                {
                    accepted.Add(report);
                }
                return Task.CompletedTask;
            }
        }
    }

    private Task RunJobAsync() => factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReportJob>().RunAsync());

    private async Task<(Meta.ComputeAccess.Allocations.Allocation Allocation, PortalUser Pi)> AllocationAsync(string slug, int startedDaysAgo, int days)
    {
        var cluster = await factory.CreateClusterAsync(slug);
        var period = await factory.CreatePeriodAsync("Period " + slug);
        await factory.SetCapacityAsync(cluster, period, 10_000m);
        var pi = await factory.CreateUserAsync($"pi.{slug}@example.edu");
        var allocation = await factory.GrantAsync(period, pi.Id, "Project " + slug, new Dictionary<Guid, decimal> { [cluster.Id] = 100m },
            account: slug + "-acct", start: factory.Today().AddDays(-startedDaysAgo), end: factory.Today().AddDays(-startedDaysAgo + days - 1));
        return (allocation, pi);
    }

    private async Task<List<string>> KindsSentToAsync(Guid userId)
    {
        await using var db = factory.NewDbContext();
        return await db.OutboxMessages.Where(m => m.RecipientUserId == userId && m.Kind.StartsWith("report.")).OrderBy(m => m.Id).Select(m => m.Kind).ToListAsync();
    }

    [Fact]
    public async Task A_progress_report_is_asked_for_half_way_reminded_once_and_overdue_once()
    {
        // 100 days from 20 days ago: half-way is in 30 days.
        var (allocation, pi) = await AllocationAsync("halfway", 20, 100);
        await RunJobAsync();
        Assert.Empty(await KindsSentToAsync(pi.Id));

        factory.Clock.Advance(TimeSpan.FromDays(29));
        await RunJobAsync();
        Assert.Empty(await KindsSentToAsync(pi.Id));
        factory.Clock.Advance(TimeSpan.FromDays(1));
        await RunJobAsync();
        await RunJobAsync();
        await using (var db = factory.NewDbContext())
        {
            var report = await db.ProgressReports.SingleAsync(r => r.AllocationId == allocation.Id);
            Assert.Equal((ProgressReportKind.Progress, ProgressReportStatus.Due, factory.Today().AddDays(30)), (report.Kind, report.Status, report.DueOn));
        }
        Assert.Equal([NotificationKinds.ReportRequested], await KindsSentToAsync(pi.Id));

        // Seven days before it is due: one reminder, however often the job runs.
        factory.Clock.Advance(TimeSpan.FromDays(23));
        await RunJobAsync();
        await RunJobAsync();
        Assert.Equal([NotificationKinds.ReportRequested, NotificationKinds.ReportDue], await KindsSentToAsync(pi.Id));

        // Past the due date: one overdue notice, and the admins see it on their dashboard.
        factory.Clock.Advance(TimeSpan.FromDays(8));
        await RunJobAsync();
        await RunJobAsync();
        Assert.Equal([NotificationKinds.ReportRequested, NotificationKinds.ReportDue, NotificationKinds.ReportOverdue], await KindsSentToAsync(pi.Id));
        var admin = await factory.CreateUserAsync("admin.halfway@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var client = new PortalClient(factory);
        await client.SignInAsync(admin.Email!);
        Assert.Contains("Project halfway", await client.GetPageAsync("/Admin/Allocations/Reports?show=overdue"), StringComparison.Ordinal);
        Assert.Contains("data-queue=\"reports-overdue\"", await client.GetPageAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_final_report_is_asked_for_once_the_allocation_has_ended()
    {
        var (allocation, pi) = await AllocationAsync("ended", 20, 15);
        await factory.WithScopeAsync(sp => sp.GetRequiredService<AllocationLifecycleJob>().RunAsync());
        await RunJobAsync();
        await RunJobAsync();

        await using var db = factory.NewDbContext();
        var report = await db.ProgressReports.SingleAsync(r => r.AllocationId == allocation.Id);
        // Ended 6 days ago: due 30 days after the end date; no progress report is asked for after the end.
        Assert.Equal((ProgressReportKind.Final, allocation.EndDate.AddDays(30)), (report.Kind, report.DueOn));
        Assert.Equal([NotificationKinds.ReportRequested], await KindsSentToAsync(pi.Id));
    }

    [Fact]
    public async Task A_report_with_a_malformed_doi_is_refused_beside_the_output_and_saves_nothing()
    {
        var (allocation, pi) = await AllocationAsync("baddoi", 10, 100);
        var report = await RequestAsync(allocation.Id);
        using var client = new PortalClient(factory);
        await client.SignInAsync(pi.Email!);
        var url = $"/Allocations/{allocation.Id}/Report/{report}";

        using var response = await client.PostFormAsync(url, new Dictionary<string, string>
        {
            ["Input.Narrative"] = new string('n', 80),
            ["Input.Outputs[0].Kind"] = "Paper",
            ["Input.Outputs[0].Title"] = "A paper",
            ["Input.Outputs[0].DoiOrUrl"] = "11.1234/not-a-doi",
            ["Input.Outputs[1].Kind"] = "Code",
            ["Input.Outputs[1].Title"] = "Code without a licence",
            ["Input.Outputs[1].DoiOrUrl"] = "https://git.example.org/x",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Give the DOI, such as 10.1234/abcd.5678", html, StringComparison.Ordinal);
        Assert.Contains("Name the licence the weights or code are released under", html, StringComparison.Ordinal);
        await using var db = factory.NewDbContext();
        var stored = await db.ProgressReports.Include(r => r.Outputs).SingleAsync(r => r.Id == report);
        Assert.Equal((ProgressReportStatus.Due, 0, ""), (stored.Status, stored.Outputs.Count, stored.Narrative));
    }

    [Fact]
    public async Task A_submitted_report_shows_dois_as_doi_org_links_and_an_admin_accepting_it_runs_the_hook()
    {
        var (allocation, pi) = await AllocationAsync("accept", 10, 100);
        var report = await RequestAsync(allocation.Id);
        var admin = await factory.CreateUserAsync("admin.accept@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var team = new PortalClient(factory);
        await team.SignInAsync(pi.Email!);
        using (var submitted = await team.PostFormAsync($"/Allocations/{allocation.Id}/Report/{report}", new Dictionary<string, string>
        {
            ["Input.Narrative"] = "The model trained on schedule and beat the baseline on every benchmark we set out to test.",
            ["Input.Outputs[0].Kind"] = "Paper",
            ["Input.Outputs[0].Title"] = "Our paper",
            ["Input.Outputs[0].DoiOrUrl"] = "https://doi.org/10.1145/3442188.3445922",
            ["Input.Outputs[1].Kind"] = "ModelWeights",
            ["Input.Outputs[1].Title"] = "The weights",
            ["Input.Outputs[1].DoiOrUrl"] = "https://models.example.org/weights",
            ["Input.Outputs[1].Licence"] = "CC BY 4.0",
        }))
        {
            Assert.Equal(HttpStatusCode.Redirect, submitted.StatusCode);
        }
        var page = await team.GetPageAsync($"/Allocations/{allocation.Id}");
        Assert.Contains("href=\"https://doi.org/10.1145/3442188.3445922\"", page, StringComparison.Ordinal);
        Assert.Contains("href=\"https://models.example.org/weights\"", page, StringComparison.Ordinal);
        Assert.Single(await AdminNoticesAsync(admin.Id));
        // The report is the submitter's data: their download has it, with its outputs.
        using (var export = await team.PostFormAsync("/Account/Security", new Dictionary<string, string>(), "/Account/Security?handler=Export"))
        {
            using var json = System.Text.Json.JsonDocument.Parse(await export.Content.ReadAsStringAsync());
            var mine = Assert.Single(json.RootElement.GetProperty("progressReportsYouSubmitted").EnumerateArray());
            Assert.StartsWith("The model trained on schedule", mine.GetProperty("narrative").GetString(), StringComparison.Ordinal);
            Assert.Equal(["Our paper", "The weights"], mine.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("title").GetString()).Order(StringComparer.Ordinal));
        }

        using var adminClient = new PortalClient(factory);
        await adminClient.SignInAsync(admin.Email!);
        Assert.Contains("Project accept", await adminClient.GetPageAsync("/Admin/Allocations/Reports"), StringComparison.Ordinal);
        using (var accepted = await adminClient.PostFormAsync($"/Admin/Allocations/Details?id={allocation.Id}", new Dictionary<string, string>(),
                   $"/Admin/Allocations/Details?id={allocation.Id}&reportId={report}&handler=AcceptReport"))
        {
            Assert.Equal(HttpStatusCode.Redirect, accepted.StatusCode);
        }
        var hook = Assert.Single(factory.Accepted, a => a.ReportId == report);
        Assert.Equal((allocation.Id, ProgressReportKind.Progress, admin.Id), (hook.AllocationId, hook.Kind, hook.AcceptedBy));
        Assert.Equal([NotificationKinds.ReportAccepted], await KindsSentToAsync(pi.Id));

        // Accepted is final: the team can no longer change it, and a second acceptance is refused.
        using var again = await team.PostFormAsync($"/Allocations/{allocation.Id}/Report/{report}", new Dictionary<string, string> { ["Input.Narrative"] = new string('x', 80) });
        Assert.Contains("This report was accepted and can no longer change.", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await Assert.ThrowsAsync<DomainException>(() => factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().AcceptAsync(allocation.Id, report, admin.Id)));
        // Named with another allocation, a report is no report of it.
        Assert.False(await factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().AcceptAsync(Guid.NewGuid(), report, admin.Id)));
        Assert.Single(factory.Accepted, a => a.ReportId == report);
    }

    [Fact]
    public async Task An_admin_asks_for_a_progress_report_now_the_team_is_told_and_sees_it_and_the_schedule_still_asks_its_own()
    {
        // 100 days from 10 days ago: the scheduled progress report is asked for in 40 days.
        var (allocation, pi) = await AllocationAsync("ondemand", 10, 100);
        var admin = await factory.CreateUserAsync("admin.ondemand@program.example.org", [Roles.Admin, Roles.Researcher]);
        using var adminClient = new PortalClient(factory);
        await adminClient.SignInAsync(admin.Email!);
        var details = $"/Admin/Allocations/Details?id={allocation.Id}";
        Task<HttpResponseMessage> AskAsync(string dueOn) =>
            adminClient.PostFormAsync(details, new Dictionary<string, string> { ["dueOn"] = dueOn }, details + "&handler=AskReport");
        Assert.Contains("Ask for the report", await adminClient.GetPageAsync(details), StringComparison.Ordinal);

        // Due today, or not a date: refused above the form, nothing asked for.
        foreach (var bad in new[] { factory.Today().ToString("yyyy-MM-dd"), "not-a-date", "" })
        {
            using var refused = await AskAsync(bad);
            Assert.Equal(HttpStatusCode.OK, refused.StatusCode);
            Assert.Contains(bad == "not-a-date" ? "could not be read" : "from tomorrow to a year ahead", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        await using (var db = factory.NewDbContext())
        {
            Assert.False(await db.ProgressReports.AnyAsync(r => r.AllocationId == allocation.Id));
        }

        var due = factory.Today().AddDays(14);
        using (var asked = await AskAsync(due.ToString("yyyy-MM-dd")))
        {
            Assert.Equal(HttpStatusCode.Redirect, asked.StatusCode);
        }
        Guid reportId;
        await using (var db = factory.NewDbContext())
        {
            var report = await db.ProgressReports.SingleAsync(r => r.AllocationId == allocation.Id);
            Assert.Equal((ProgressReportKind.Progress, ProgressReportStatus.Due, due, (Guid?)admin.Id), (report.Kind, report.Status, report.DueOn, report.RequestedBy));
            reportId = report.Id;
            Assert.Contains(await db.AuditEntries.Where(e => e.SubjectId == allocation.Id.ToString()).Select(e => e.Action).ToListAsync(), a => a == "allocation.report-asked");
        }
        Assert.Equal([NotificationKinds.ReportRequested], await KindsSentToAsync(pi.Id));
        using (var again = await AskAsync(factory.Today().AddDays(20).ToString("yyyy-MM-dd")))
        {
            Assert.Contains($"still due on {due:yyyy-MM-dd}", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The team's dashboard lists it with a link to its form.
        using var team = new PortalClient(factory);
        await team.SignInAsync(pi.Email!);
        var dashboard = await team.GetPageAsync("/");
        Assert.Contains($"data-report-due=\"{reportId}\"", dashboard, StringComparison.Ordinal);
        Assert.Contains($"href=\"/Allocations/{allocation.Id}/Report/{reportId}\"", dashboard, StringComparison.Ordinal);

        // Half-way, the schedule asks for its own progress report as well.
        factory.Clock.Advance(TimeSpan.FromDays(40));
        await RunJobAsync();
        await using (var db = factory.NewDbContext())
        {
            Assert.Equal([(Guid?)admin.Id, null], await db.ProgressReports.Where(r => r.AllocationId == allocation.Id).OrderBy(r => r.RequestedAt).Select(r => r.RequestedBy).ToListAsync());
        }

        // Accepting it tells the hook it was asked for on demand.
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().SubmitAsync(reportId, pi.Id, "What the extra hours achieved so far, for the funder's mid-year review of the program.", [])));
        Assert.True(await factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().AcceptAsync(allocation.Id, reportId, admin.Id)));
        Assert.True(Assert.Single(factory.Accepted, a => a.ReportId == reportId).OnRequest);
        Assert.DoesNotContain($"data-report-due=\"{reportId}\"", await team.GetPageAsync("/"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Someone_outside_the_team_gets_404_for_a_report_and_cannot_submit_it()
    {
        var (allocation, _) = await AllocationAsync("outsider", 10, 100);
        var report = await RequestAsync(allocation.Id);
        var other = await factory.CreateUserAsync("other.outsider@example.edu");
        using var client = new PortalClient(factory);
        await client.SignInAsync(other.Email!);

        using var page = await client.GetAsync($"/Allocations/{allocation.Id}/Report/{report}");
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.False(await factory.WithScopeAsync(sp => sp.GetRequiredService<ProgressReports>().SubmitAsync(report, other.Id, new string('n', 80), [])));
    }

    private async Task<Guid> RequestAsync(Guid allocationId)
    {
        await using var db = factory.NewDbContext();
        var report = ProgressReport.Request(allocationId, ProgressReportKind.Progress, factory.Today().AddDays(20), factory.Clock.GetUtcNow());
        db.ProgressReports.Add(report);
        await db.SaveChangesAsync();
        return report.Id;
    }

    private async Task<List<OutboxMessage>> AdminNoticesAsync(Guid adminId)
    {
        await using var db = factory.NewDbContext();
        return await db.OutboxMessages.Where(m => m.RecipientUserId == adminId && m.Kind == NotificationKinds.ReportSubmitted).ToListAsync();
    }
}
