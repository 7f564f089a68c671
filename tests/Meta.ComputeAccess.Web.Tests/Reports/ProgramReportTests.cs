using System.Net;
using Meta.ComputeAccess.Allocations;
using Meta.ComputeAccess.Calls;
using Meta.ComputeAccess.Clusters;
using Meta.ComputeAccess.Identity;
using Meta.ComputeAccess.Proposals;
using Meta.ComputeAccess.Reports;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Meta.ComputeAccess.Web.Tests.Allocation;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Reports;

/// <summary>
/// Every figure of the program report on a small program whose numbers are known: two calls, two clusters, four
/// submitted proposals (awarded, declined, waitlisted but not released, withdrawn), a draft, three reviews, an
/// allocation made from the award with usage charged through the cluster API, and a discretionary allocation.
/// </summary>
public sealed class ProgramReportTests(ProgramReportTests.Program program) : IClassFixture<ProgramReportTests.Program>
{
    [Fact]
    public async Task Totals_and_success_rate_count_released_decisions_only()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        Assert.Equal(new ReportTotals(4, 2, 1, 0, 1, 1, 50.0), report.Totals);
        Assert.Equal(50m, report.Totals.SuccessRate);
    }

    [Fact]
    public async Task Submissions_are_counted_by_call_field_country_institution_and_month()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        Assert.Equal([new("Call report-x", 3, 2, 1), new("Call report-y", 1, 0, 0)], report.ByCall);
        Assert.Equal([new("Other", 2, 1, 0), new("Speech and audio", 2, 1, 1)], report.ByField);
        Assert.Equal([0m, 100m], report.ByField.Select(r => r.SuccessRate));
        Assert.Equal([new("GB", 3, 1, 1), new("DE", 1, 1, 0)], report.ByCountry);
        Assert.Equal([new("Uni One", 3, 1, 1), new("Uni Two", 1, 1, 0)], report.ByInstitution);
        var expectedMonths = program.SubmittedAt.GroupBy(t => t.UtcDateTime.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture))
            .OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count()));
        Assert.Equal(expectedMonths, report.ByMonth.Select(r => (r.Label, r.Submitted)));
    }

    [Fact]
    public async Task Hours_per_cluster_are_requested_recommended_granted_and_used()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        // Recommended: P1's mean of 80 and 60 on Alpha (70) plus P2's 40; on Beta P1's mean of 20 and 10.
        // Granted: P1's allocation (40 and 10) and the discretionary one (100 on Alpha); used: 3 jobs × 8 GPUs × 1 h.
        Assert.Equal([new ClusterHoursRow("Alpha", 180m, 110m, 140m, 24m), new ClusterHoursRow("Beta", 40m, 15m, 10m, 0m)], report.HoursByCluster);
    }

    [Fact]
    public async Task A_chosen_call_leaves_out_other_calls_and_discretionary_allocations()
    {
        var report = await program.ReportAsync(new ReportScope(program.CallX, null, null));

        Assert.Equal(3, report.Totals.Submitted);
        Assert.Equal([new ClusterHoursRow("Alpha", 150m, 110m, 40m, 24m), new ClusterHoursRow("Beta", 40m, 15m, 10m, 0m)], report.HoursByCluster);
        Assert.Equal(["P1 speech"], report.Utilisation.Select(u => u.Title));
    }

    [Fact]
    public async Task A_date_range_counts_proposals_submitted_on_those_days()
    {
        var day = DateOnly.FromDateTime(program.SubmittedAt[1].UtcDateTime);

        var report = await program.ReportAsync(new ReportScope(null, day, day));

        Assert.Equal(1, report.Totals.Submitted);
        Assert.Equal([new("DE", 1, 1, 0)], report.ByCountry);
    }

    [Fact]
    public async Task Capacity_shows_grantable_and_committed_per_period_and_cluster()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        Assert.Equal([new CapacityReportRow("Report period", program.PeriodStart, "Alpha", 1_000m, 1_400m, 140m), new CapacityReportRow("Report period", program.PeriodStart, "Beta", 500m, 500m, 10m)],
            report.Capacity);
        Assert.Equal([1_260m, 490m], report.Capacity.Select(c => c.Free));
    }

    [Fact]
    public async Task Utilisation_per_allocation_and_its_distribution()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        Assert.Equal([("Discretionary work", 100m, 0m, (decimal?)0m), ("P1 speech", 50m, 24m, 48m)],
            report.Utilisation.Select(u => (u.Title, u.Granted, u.Used, u.Utilisation)));
        Assert.Equal(11, report.UtilisationBands.Count);
        Assert.Equal(1, report.UtilisationBands.Single(b => b.FromPercent == 0).Allocations);
        Assert.Equal(1, report.UtilisationBands.Single(b => b.FromPercent == 40).Allocations);
        Assert.Equal(2, report.UtilisationBands.Sum(b => b.Allocations));
        Assert.Equal("100 % and more", report.UtilisationBands[^1].Label);
    }

    [Fact]
    public async Task Reviewer_load_counts_assignments_and_mean_turnaround()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        // r1 reviewed P1 in 2 days and P2 in 10; r2 reviewed P1 in 4 days and has P3 open.
        Assert.Equal([new ReviewerLoadRow("r1", 2, 2, 6.0), new ReviewerLoadRow("r2", 2, 1, 4.0)], report.ReviewerLoad);
        Assert.Equal([0, 1], report.ReviewerLoad.Select(r => r.Open));
    }

    [Fact]
    public async Task Time_to_decision_counts_released_decisions_in_bands()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        // P1 was decided 30 days after submission, P2 70 days after.
        Assert.Equal([("under 30 days", 0), ("30–60 days", 1), ("60–90 days", 1), ("90–180 days", 0), ("180 days and more", 0)],
            report.DecisionTimes.Select(b => (b.Label, b.Proposals)));
    }

    [Fact]
    public async Task Outputs_of_accepted_reports_are_counted_by_call_and_kind_once_each()
    {
        var report = await program.ReportAsync(ReportScope.Everything);

        Assert.Equal([new OutputsRow(ProgramReports.Discretionary, 0, 0, 1, 0), new OutputsRow("Call report-x", 2, 1, 0, 1)], report.OutputsByCall);
        Assert.Equal([new OutputsRow("Call report-x", 2, 1, 0, 1)], (await program.ReportAsync(new ReportScope(program.CallX, null, null))).OutputsByCall);
    }

    [Fact]
    public async Task A_range_ending_before_it_starts_is_refused_on_the_page_and_in_the_csv()
    {
        using var client = await program.AdminAsync();

        var html = await client.GetPageAsync("/Admin/Reports?from=2027-05-01&to=2027-04-01");
        Assert.Contains("Choose an end on or after the start.", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-report-totals", html, StringComparison.Ordinal);

        using var csv = await client.GetAsync("/Admin/Reports?handler=Csv&table=by-call&from=2027-05-01&to=2027-04-01");
        Assert.Equal(HttpStatusCode.BadRequest, csv.StatusCode);
        Assert.Contains("Choose an end on or after the start.", await csv.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_page_shows_each_figure_as_a_table_and_its_csv_has_the_same_numbers()
    {
        using var client = await program.AdminAsync();

        var html = await client.GetPageAsync($"/Admin/Reports?call={program.CallX}");
        Assert.Contains("<table class=\"table table-sm\" id=\"hours-by-cluster-table\">", html, StringComparison.Ordinal);
        Assert.Contains("data-chart-table=\"hours-by-cluster-table\"", html, StringComparison.Ordinal);
        Assert.Contains("<th scope=\"row\">Alpha</th>", html, StringComparison.Ordinal);
        Assert.Contains("/lib/chart.js/dist/chart.umd.min.", html, StringComparison.Ordinal);

        using var csv = await client.GetAsync($"/Admin/Reports?handler=Csv&table=hours-by-cluster&call={program.CallX}");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Cluster,Requested,Recommended,Granted,Used\nAlpha,150,110,40,24\nBeta,40,15,10,0\n", await csv.Content.ReadAsStringAsync());

        using var unknown = await client.GetAsync("/Admin/Reports?handler=Csv&table=nope");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    /// <summary>The program, built once for the class through the domain methods and the real services.</summary>
    public sealed class Program : PortalFactory
    {
        public Guid CallX { get; private set; }

        public List<DateTimeOffset> SubmittedAt { get; } = [];

        public DateOnly PeriodStart { get; private set; }

        private string adminEmail = "";

        public Task<ProgramReport> ReportAsync(ReportScope scope) =>
            WithScopeAsync(sp => sp.GetRequiredService<ProgramReports>().BuildAsync(scope));

        public async Task<PortalClient> AdminAsync()
        {
            var client = new PortalClient(this);
            await client.SignInAsync(adminEmail);
            return client;
        }

        public override async Task InitializeAsync()
        {
            await base.InitializeAsync();
            var now = Clock.GetUtcNow();
            var t1 = now.AddDays(-100);
            var admin = await this.CreateUserAsync("admin@report.example.org", [Roles.Admin, Roles.Researcher], "Program");
            adminEmail = admin.Email!;
            var pi1 = await this.CreateUserAsync("pi1@one.example.edu", institution: "Uni One");
            var pi2 = await this.CreateUserAsync("pi2@two.example.edu", institution: "Uni Two");
            var pi3 = await this.CreateUserAsync("pi3@one.example.edu", institution: "Uni One");
            var r1 = await this.CreateUserAsync("r1@review.example.org", [Roles.Reviewer, Roles.Researcher], "Review Inst");
            var r2 = await this.CreateUserAsync("r2@review.example.org", [Roles.Reviewer, Roles.Researcher], "Review Inst");
            var today = DateOnly.FromDateTime(now.UtcDateTime);
            PeriodStart = today.AddDays(-30);
            Cluster alpha, beta;
            Guid p1Id;
            await using (var db = NewDbContext())
            {
                (await db.Users.FindAsync(pi2.Id))!.Country = "DE";
                alpha = Cluster.Create("Alpha", "alpha", "H100 80GB", 2, 8, "alpha", t1);
                beta = Cluster.Create("Beta", "beta", "H100 80GB", 2, 8, "beta", t1);
                db.Clusters.AddRange(alpha, beta);
                var x = NewCall("report-x", t1, alpha.Id, beta.Id);
                var y = NewCall("report-y", t1, alpha.Id);
                db.Calls.AddRange(x, y);
                CallX = x.Id;

                var p1 = Submit(db, x, pi1.Id, "P1 speech", "Speech and audio", t1, (alpha.Id, 100m), (beta.Id, 20m));
                var p2 = Submit(db, x, pi2.Id, "P2 other", "Other", t1.AddDays(1), (alpha.Id, 50m));
                var p3 = Submit(db, y, pi3.Id, "P3 speech", "Speech and audio", t1.AddDays(5), (alpha.Id, 30m));
                var p4 = Submit(db, x, pi1.Id, "P4 other", "Other", t1.AddDays(6), (beta.Id, 20m));
                SubmittedAt.AddRange([t1, t1.AddDays(1), t1.AddDays(5), t1.AddDays(6)]);
                var draft = Proposal.StartDraft(x, pi2.Id, "A draft", t1);
                db.Proposals.Add(draft);
                p1Id = p1.Id;

                foreach (var p in new[] { p1, p2, p3 })
                {
                    p.StartScreening(admin.Id, p.SubmittedAt!.Value);
                    p.SendToReview(admin.Id, p.SubmittedAt!.Value, "Screening passed");
                }
                Review(db, x, p1, admin.Id, r1.Id, t1, t1.AddDays(2), (alpha.Id, 80m), (beta.Id, 20m));
                Review(db, x, p1, admin.Id, r2.Id, t1, t1.AddDays(4), (alpha.Id, 60m), (beta.Id, 10m));
                Review(db, x, p2, admin.Id, r1.Id, t1.AddDays(1), t1.AddDays(11), (alpha.Id, 40m));
                Review(db, y, p3, admin.Id, r2.Id, t1.AddDays(5), null);

                p1.Decide(ProposalDecision.Awarded, [new AwardedHours(alpha.Id, 40m), new AwardedHours(beta.Id, 10m)], admin.Id, t1.AddDays(30), "Congratulations.");
                p1.ReleaseDecision(admin.Id, t1.AddDays(30));
                p2.Decide(ProposalDecision.Declined, admin.Id, t1.AddDays(71), "Not this time.");
                p2.ReleaseDecision(admin.Id, t1.AddDays(71));
                p3.Decide(ProposalDecision.Waitlisted, admin.Id, t1.AddDays(40), "On the waitlist.");
                p4.Withdraw(pi1.Id, t1.AddDays(7), "Changed plans.");

                var period = AllocationPeriod.Create("Report period", PeriodStart, today.AddDays(300), t1);
                db.AllocationPeriods.Add(period);
                db.ClusterCapacities.Add(ClusterCapacity.Create(alpha.Id, period.Id, 1_000m, 1.5m, 100m, t1));
                db.ClusterCapacities.Add(ClusterCapacity.Create(beta.Id, period.Id, 500m, 1m, 0m, t1));
                await db.SaveChangesAsync();
            }
            var (awarded, discretionary) = await WithScopeAsync(async sp =>
            {
                var allocations = sp.GetRequiredService<AllocationService>();
                await using var db = NewDbContext();
                var periodId = db.AllocationPeriods.Single().Id;
                var a1 = await allocations.CreateAsync(new NewAllocation(periodId, pi1.Id, "P1 speech", today.AddDays(-10), today.AddDays(90),
                    new Dictionary<Guid, decimal> { [alpha.Id] = 40m, [beta.Id] = 10m }, p1Id, "p1acct"), admin.Id);
                var a2 = await allocations.CreateAsync(new NewAllocation(periodId, pi3.Id, "Discretionary work", today.AddDays(-10), today.AddDays(90),
                    new Dictionary<Guid, decimal> { [alpha.Id] = 100m }, null, "discacct"), admin.Id);
                return (a1.Id, a2.Id);
            });
            // Outputs: P1's allocation has two accepted reports naming one paper twice; the discretionary one an accepted
            // report with weights and a submitted, not accepted, one with a paper (not counted).
            await using (var db = NewDbContext())
            {
                const string narrative = "The hours went into the experiments the proposal planned, and they worked out well.";
                OutputInput Paper(string doi) => new(OutputKind.Paper, "Paper " + doi, doi, "");
                // The scheduled progress report (one per allocation), or one an admin asked for on demand.
                void Report(Guid allocation, Guid pi, bool onRequest, bool accept, params OutputInput[] outputs)
                {
                    var report = onRequest ? ProgressReport.AskNow(allocation, today.AddDays(5), admin.Id, now) : ProgressReport.Request(allocation, ProgressReportKind.Progress, today, now);
                    report.Submit(narrative, outputs, pi, now);
                    if (accept)
                    {
                        report.Accept(admin.Id, now);
                    }
                    db.ProgressReports.Add(report);
                }
                Report(awarded, pi1.Id, false, true, Paper("10.1000/one"), new OutputInput(OutputKind.Dataset, "Data", "10.1000/data", "CC BY 4.0"), new OutputInput(OutputKind.Code, "Code", "https://git.example.org/p1", "MIT"));
                Report(awarded, pi1.Id, true, true, Paper("10.1000/one"), Paper("10.1000/two"));
                Report(discretionary, pi3.Id, false, true, new OutputInput(OutputKind.ModelWeights, "Weights", "https://models.example.org/w", "Apache-2.0"));
                Report(discretionary, pi3.Id, true, false, Paper("10.1000/not-accepted"));
                await db.SaveChangesAsync();
            }
            // 3 jobs of 8 GPUs for an hour each: 24 GPU-hours on Alpha, through the cluster API.
            using var api = this.ApiClient(await this.CreateTokenAsync(alpha));
            using var body = AllocationWorld.SacctContent(this.Sacct(("101", "p1acct", 8), ("102", "p1acct", 8), ("103", "p1acct", 8)));
            using var response = await api.PostAsync(new Uri("/api/v1/usage", UriKind.Relative), body);
            response.EnsureSuccessStatusCode();
        }

        private static Call NewCall(string slug, DateTimeOffset now, params Guid[] clusters)
        {
            var call = Call.Create("Call " + slug, slug, now);
            call.SetTexts(call.Title, "Open research.", "Universities");
            call.SetSchedule(CallKind.Fixed, now.AddMinutes(-1), now.AddDays(30), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(1)), DateOnly.FromDateTime(now.UtcDateTime.AddMonths(13)), "UTC");
            call.SetReview(2, ReviewMode.SingleBlind);
            foreach (var cluster in clusters)
            {
                call.OfferCluster(cluster, 1_000_000m, 10m, 1_000m);
            }
            call.AddCriterion("Merit", "Is it important?", 50m);
            call.Open(now);
            return call;
        }

        private static Proposal Submit(Meta.ComputeAccess.Data.PortalDbContext db, Call call, Guid pi, string title, string field, DateTimeOffset at, params (Guid Cluster, decimal Hours)[] requests)
        {
            var p = Proposal.StartDraft(call, pi, title, at);
            p.UpdateDraft(new ProposalContent(title, new string('a', 120), ["reports"], field, new string('j', 120), false, "", false, "", "MIT licence",
                PlannedOutputs.Code, "", [.. requests.Select(r => new RequestedHours(r.Cluster, r.Hours, r.Hours / 2))], false, ""), call, at);
            p.Submit(call, pi, at);
            db.Proposals.Add(p);
            return p;
        }

        private static void Review(Meta.ComputeAccess.Data.PortalDbContext db, Call call, Proposal p, Guid admin, Guid reviewer, DateTimeOffset assignedAt, DateTimeOffset? submittedAt, params (Guid Cluster, decimal Hours)[] hours)
        {
            p.RecordReviewerChange(true, admin, assignedAt);
            var review = ProposalReview.Assign(call.Id, p.Id, reviewer, admin, null, assignedAt);
            db.Reviews.Add(review);
            if (submittedAt is { } at)
            {
                var criterion = call.Rubric[0].Id;
                var requested = p.Requests.ToDictionary(r => r.ClusterId, r => r.RequestedHours);
                review.Submit(new ReviewContent(new Dictionary<Guid, int?> { [criterion] = 4 }, 7, 2, hours.ToDictionary(h => h.Cluster, h => (decimal?)h.Hours),
                    "Clear plan and a sensible request.", ""), new ReviewLimits([criterion], requested, requested), null, phaseOpen: true, at);
            }
        }
    }
}
