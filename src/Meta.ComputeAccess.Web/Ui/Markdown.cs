using Meta.ComputeAccess.Content;
using Microsoft.AspNetCore.Html;
using Microsoft.AspNetCore.Mvc.Rendering;

namespace Meta.ComputeAccess.Web.Ui;

public static class MarkdownHtml
{
    /// <summary>User Markdown as sanitized HTML (no script, handlers or javascript: links).</summary>
    public static IHtmlContent Markdown(this IHtmlHelper html, string? markdown) =>
        new HtmlString("<div class=\"markdown\">" + MarkdownRenderer.ToSafeHtml(markdown) + "</div>");
}
