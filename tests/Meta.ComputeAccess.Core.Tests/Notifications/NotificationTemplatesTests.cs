using Meta.ComputeAccess.Notifications;

namespace Meta.ComputeAccess.Core.Tests.Notifications;

public sealed class NotificationTemplatesTests
{
    private readonly NotificationTemplates templates = new();

    public static TheoryData<string> Kinds() => [.. NotificationKinds.All.Select(k => k.Key)];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Every_kind_renders_with_its_subject_named_and_a_direct_link(string kind)
    {
        var values = templates.Placeholders(kind).ToDictionary(p => p, p => $"<{p}-value>");
        values["subject"] = "Protein folding & scale";
        values["link"] = "https://portal.example.org/Things/1?a=1&b=2";

        var message = templates.Render(kind, values, templates.Footer("https://portal.example.org/unsub", "https://portal.example.org/prefs"));

        Assert.Contains("https://portal.example.org/Things/1?a=1&b=2", message.Text, StringComparison.Ordinal);
        Assert.Contains("href=\"https://portal.example.org/Things/1?a=1&amp;b=2\"", message.Html, StringComparison.Ordinal);
        Assert.DoesNotContain("{{", message.Text, StringComparison.Ordinal);
        Assert.False(string.IsNullOrWhiteSpace(message.Summary));
        // Account and security mails are about the account itself; every other kind names what it is about.
        if (!kind.StartsWith("account.", StringComparison.Ordinal) && !kind.StartsWith("security.", StringComparison.Ordinal))
        {
            // Context in the subject line: the proposal, allocation, cluster or job it is about.
            Assert.Contains("Protein folding & scale", message.Subject, StringComparison.Ordinal);
            Assert.Contains("Protein folding &amp; scale", message.Html, StringComparison.Ordinal);
        }
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void The_headline_is_the_subject_and_summary_of_the_full_message(string kind)
    {
        var values = templates.Placeholders(kind).ToDictionary(p => p, p => $"<{p}-value>");

        var headline = templates.Headline(kind, values);
        var message = templates.Render(kind, values, templates.Footer("https://portal.example.org/unsub", "https://portal.example.org/prefs"));

        Assert.Equal((message.Subject, message.Summary), (headline.Subject, headline.Summary));
    }

    [Fact]
    public void The_headline_still_needs_every_value_of_the_body()
    {
        // allocation.idle's subject and summary could be filled without {{account}}; its body could not.
        var values = new Dictionary<string, string> { ["name"] = "n", ["subject"] = "s", ["link"] = "https://e.org/1" };
        Assert.Contains("account", templates.Placeholders(NotificationKinds.AllocationIdle));

        var error = Assert.Throws<InvalidOperationException>(() => templates.Headline(NotificationKinds.AllocationIdle, values));

        Assert.Contains("{{account}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Values_are_escaped_in_the_html_part()
    {
        var message = templates.Render(NotificationKinds.DecisionReleased,
            new Dictionary<string, string> { ["name"] = "<script>x</script>", ["subject"] = "S", ["link"] = "https://e.org/1", ["outcome"] = "Awarded" }, "");

        Assert.DoesNotContain("<script>", message.Html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;", message.Html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_value_is_an_error_naming_the_placeholder()
    {
        var error = Assert.Throws<InvalidOperationException>(() => templates.Render(NotificationKinds.QuotaThreshold,
            new Dictionary<string, string> { ["name"] = "n", ["subject"] = "s", ["link"] = "https://e.org/1", ["remaining"] = "5" }, ""));

        Assert.Contains("{{percent}}", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Security_kinds_cannot_be_digested_or_turned_off()
    {
        var preference = NotificationPreference.Create(Guid.NewGuid(), NotificationKinds.AccountReset, NotificationMode.Immediate, DateTimeOffset.UnixEpoch);

        Assert.Throws<DomainException>(() => preference.Change(NotificationMode.Off, DateTimeOffset.UnixEpoch));
        Assert.Throws<DomainException>(() => NotificationPreference.Create(Guid.NewGuid(), NotificationKinds.SecuritySignIn, NotificationMode.DailyDigest, DateTimeOffset.UnixEpoch));
    }

    [Theory]
    [InlineData("Open models\r\nSECURITY NOTICE: verify at https://evil.example/x", "Open models")]
    [InlineData("Results at https://evil.example/x and www.evil.example", "Results at https:\u200B//evil.\u200Bexample/x and www.\u200Bevil.\u200Bexample")]
    [InlineData("GPT-4.5 at 1.5 h\tper step\u2028second line", "GPT-4.5 at 1.5 h per step")]
    public void Typed_text_becomes_one_line_that_no_mail_client_links(string typed, string inert)
    {
        Assert.Equal(inert, NotificationTemplates.Inert(typed));
        Assert.Equal(inert, NotificationTemplates.Inert(NotificationTemplates.Inert(typed)));
    }

    [Theory]
    [MemberData(nameof(Kinds))]
    public void A_title_reaches_every_mail_quoted_on_one_line_and_never_as_a_link(string kind)
    {
        var values = templates.Placeholders(kind).ToDictionary(p => p, p => $"<{p}-value>");
        values["subject"] = "Protein folding\nClick https://evil.example/login now";
        values["link"] = "https://portal.example.org/Things/1";

        var message = templates.Render(kind, values, templates.Footer("https://portal.example.org/unsub", "https://portal.example.org/prefs"));

        Assert.DoesNotContain("evil", message.Text + message.Html + message.Subject + message.Summary, StringComparison.Ordinal);
        if (templates.Placeholders(kind).Contains("subject"))
        {
            Assert.Contains("“Protein folding”", message.Text, StringComparison.Ordinal);
        }
    }
}
