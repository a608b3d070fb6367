<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>DataPage</name>
    <message>
        <source>Data</source>
        <translation>数据</translation>
    </message>
    <message>
        <source>Glassbox backs up your chats and your knowledge base every day and before every upgrade, and keeps the last {keep} of each. Restoring one backs up the current state first, so a restore can be undone.</source>
        <translation>Glassbox 每天以及每次升级前都会备份你的对话和知识库，每种各保留最近 {keep} 份。恢复备份前会先备份当前状态，因此恢复可以撤销。</translation>
    </message>
    <message>
        <source>Backups</source>
        <translation>备份</translation>
    </message>
    <message>
        <source>Database</source>
        <translation>数据库</translation>
    </message>
    <message>
        <source>Date</source>
        <translation>日期</translation>
    </message>
    <message>
        <source>Reason</source>
        <translation>原因</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Table corner</source>
        <translation>表格角落</translation>
    </message>
    <message>
        <source>&amp;Back up now</source>
        <translation>立即备份(&amp;B)</translation>
    </message>
    <message>
        <source>Back up now</source>
        <translation>立即备份</translation>
    </message>
    <message>
        <source>&amp;Restore…</source>
        <translation>恢复(&amp;R)…</translation>
    </message>
    <message>
        <source>Restore the chosen backup</source>
        <translation>恢复所选备份</translation>
    </message>
    <message>
        <source>Backup status</source>
        <translation>备份状态</translation>
    </message>
    <message>
        <source>Backups folder</source>
        <translation>备份文件夹</translation>
    </message>
    <message>
        <source>Checking the backups…</source>
        <translation>正在检查备份…</translation>
    </message>
    <message>
        <source>Backups are kept in {folder}.</source>
        <translation>备份保存在 {folder}。</translation>
    </message>
    <message>
        <source>{reason} (damaged: cannot be restored)</source>
        <translation>{reason}（已损坏：无法恢复）</translation>
    </message>
    <message>
        <source>No backups yet. Back up now makes the first ones.</source>
        <translation>还没有备份。点击“立即备份”创建第一份。</translation>
    </message>
    <message>
        <source>Backing up…</source>
        <translation>正在备份…</translation>
    </message>
    <message>
        <source>Backed up: {names}.</source>
        <translation>已备份：{names}。</translation>
    </message>
    <message>
        <source>There are no chats or knowledge base to back up yet.</source>
        <translation>还没有可备份的对话或知识库。</translation>
    </message>
    <message>
        <source>A reply is being written. Stop it, then restore the chats.</source>
        <translation>正在生成回复。请先停止它，再恢复对话。</translation>
    </message>
    <message>
        <source>Replace all your chats with the backup of {when}? Chats written since then are replaced; the current chats are backed up first, so this can be undone.</source>
        <translation>用 {when} 的备份替换你的全部对话？此后写下的对话将被替换；当前对话会先备份，因此可以撤销。</translation>
    </message>
    <message>
        <source>Replace your knowledge base with the backup of {when}? Collections and documents added since then are replaced; the current state is backed up first, so this can be undone.</source>
        <translation>用 {when} 的备份替换你的知识库？此后添加的集合和文档将被替换；当前状态会先备份，因此可以撤销。</translation>
    </message>
    <message>
        <source>Restoring…</source>
        <translation>正在恢复…</translation>
    </message>
    <message>
        <source>The chats were restored from the backup of {when}. What they replaced was backed up first.</source>
        <translation>对话已从 {when} 的备份恢复。被替换的内容已先行备份。</translation>
    </message>
    <message>
        <source>The knowledge base was restored from the backup of {when} and its vectors brought in step with it. What it replaced was backed up first.</source>
        <translation>知识库已从 {when} 的备份恢复，向量也已与之同步。被替换的内容已先行备份。</translation>
    </message>
    <message>
        <source>Some collections could not be checked against their Chroma server: {problems}. They are checked again when next used.</source>
        <translation>部分集合无法与其 Chroma 服务器核对：{problems}。下次使用时会再次核对。</translation>
    </message>
    <message>
        <source>Chats</source>
        <translation>对话</translation>
    </message>
    <message>
        <source>Knowledge base</source>
        <translation>知识库</translation>
    </message>
    <message>
        <source>Daily</source>
        <translation>每日</translation>
    </message>
    <message>
        <source>Made by hand</source>
        <translation>手动</translation>
    </message>
    <message>
        <source>Before an upgrade</source>
        <translation>升级前</translation>
    </message>
    <message>
        <source>Before a restore</source>
        <translation>恢复前</translation>
    </message>
</context>
<context>
    <name>parent</name>
    <message>
        <source>Restore a backup</source>
        <translation>恢复备份</translation>
    </message>
</context>
</TS>
