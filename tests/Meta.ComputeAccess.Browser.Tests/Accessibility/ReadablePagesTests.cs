using System.Globalization;
using Meta.ComputeAccess.Data;
using Meta.ComputeAccess.Notifications;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Meta.ComputeAccess.Browser.Tests.Accessibility;

/// <summary>Times in the reader's zone, and a navigation bar that fits a laptop screen.</summary>
public sealed class ReadablePagesTests(DemoBrowserFixture portal) : IClassFixture<DemoBrowserFixture>
{
    [Fact]
    public async Task Timestamps_are_shown_in_the_browsers_time_zone_with_the_zone_named()
    {
        // Amara's profile says UTC; her browser is in Tokyo. A notice to read, so the notifications page has a time.
        await portal.WithScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<PortalDbContext>();
            var amara = await db.Users.Where(u => u.Email == "amara.okafor@lakeside.example.edu").Select(u => u.Id).SingleAsync();
            await sp.GetRequiredService<Notifier>().NotifyAsync(amara, NotificationKinds.ProposalSubmitted, "A proposal", "/Proposals",
                new Dictionary<string, string> { ["call"] = "A call" });
            await db.SaveChangesAsync();
        });
        var context = await portal.Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = portal.BaseUrl, TimezoneId = "Asia/Tokyo", Locale = "de-DE" });
        var page = await context.NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, error) => errors.Add(error);
        await page.GotoAsync("/Account/Login");
        await page.GetByLabel("Email").FillAsync("amara.okafor@lakeside.example.edu");
        await page.GetByLabel("Password").FillAsync(Meta.ComputeAccess.Demo.DemoSeeder.Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();

        var tokyo = TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo");
        foreach (var url in new[] { "/", "/Notifications", "/Allocations/" + portal.Values["allocationId"] })
        {
            await page.GotoAsync(url);
            var time = page.Locator("time[datetime]").First;
            await Expect(time).ToContainTextAsync("Asia/Tokyo");
            var instant = DateTimeOffset.Parse(await time.GetAttributeAsync("datetime") ?? "", CultureInfo.InvariantCulture);
            var expected = TimeZoneInfo.ConvertTime(instant, tokyo).ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " Asia/Tokyo";
            Assert.Equal(expected, (await time.TextContentAsync())?.Trim());
            // The server's text (in the profile's zone) stays as the title.
            Assert.EndsWith(" UTC", await time.GetAttributeAsync("title") ?? "", StringComparison.Ordinal);
        }
        Assert.Empty(errors);
    }

    [Theory]
    [InlineData("admin@example.org")]
    [InlineData("rosa.martinez@northfield.example.edu")]
    [InlineData("amara.okafor@lakeside.example.edu")]
    public async Task The_navigation_bar_is_one_line_at_1366_pixels(string email)
    {
        var page = await portal.DemoPageAsync(email, width: 1366, height: 768);
        var brand = await page.Locator(".navbar-brand").BoundingBoxAsync();
        var items = page.Locator("#mainNav > ul > li.nav-item");
        Assert.NotNull(brand);
        Assert.True(await items.CountAsync() >= 5);
        for (var i = 0; i < await items.CountAsync(); i++)
        {
            var box = await items.Nth(i).BoundingBoxAsync();
            Assert.NotNull(box);
            // Every item on the brand's line, none taller than one line of text.
            Assert.True(Math.Abs(box.Y + box.Height / 2 - (brand.Y + brand.Height / 2)) < 8, $"item {i} ({await items.Nth(i).InnerTextAsync()}) is on another line: {box.Y}");
            Assert.True(box.Height < 48, $"item {i} ({await items.Nth(i).InnerTextAsync()}) wraps: {box.Height}px high");
        }
        var nav = await page.Locator("nav.navbar").BoundingBoxAsync();
        Assert.True(nav!.Height < 80, $"the bar is {nav.Height}px high");
    }
}
