using Meta.ComputeAccess.Notifications;
using Meta.ComputeAccess.Review;
using Meta.ComputeAccess.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Meta.ComputeAccess.Web.Tests.Review;

/// <summary>The review deadline set on the reviewers page, and the reminders sent before and after it.</summary>
public sealed class ReviewReminderTests(PortalFactory factory) : IClassFixture<PortalFactory>
{
    private readonly ReviewSteps steps = new(factory);

    [Fact]
    public async Task Review_reminders_are_sent_once_each_before_and_after_the_deadline()
    {
        var s = await steps.ClosedCallAsync("remind-call", "slow@lake.example.edu", "Lake University");
        var id = s.Proposals[0];
        await ReviewSteps.ScreenPassAsync(s, id);
        await steps.ReviewerAsync(s, "late@tokai.example.ac.jp", "Tokai");
        await steps.AssignAsync(s, id, "late@tokai.example.ac.jp");
        var deadline = factory.Clock.GetUtcNow().AddDays(2);
        using (await s.Admin.PostFormAsync($"/Admin/Calls/{s.Slug}/Reviewers", new Dictionary<string, string> { ["deadline"] = deadline.UtcDateTime.ToString("yyyy-MM-ddTHH:mm", System.Globalization.CultureInfo.InvariantCulture) }, $"/Admin/Calls/{s.Slug}/Reviewers?handler=Deadline"))
        {
        }
        async Task<int> RunAsync() => await factory.WithScopeAsync(sp => sp.GetRequiredService<ReviewReminderJob>().RunAsync());
        Assert.Equal(1, await RunAsync());
        Assert.Equal(0, await RunAsync());
        factory.Clock.Advance(TimeSpan.FromDays(3));
        Assert.Equal(1, await RunAsync());
        Assert.Equal(0, await RunAsync());
        await using var db = factory.NewDbContext();
        var reviewer = await db.Users.Where(u => u.Email == "late@tokai.example.ac.jp").Select(u => u.Id).SingleAsync();
        Assert.Equal(1, await db.Notifications.CountAsync(n => n.UserId == reviewer && n.Kind == NotificationKinds.ReviewDue));
        Assert.Equal(1, await db.Notifications.CountAsync(n => n.UserId == reviewer && n.Kind == NotificationKinds.ReviewOverdue));
    }
}
